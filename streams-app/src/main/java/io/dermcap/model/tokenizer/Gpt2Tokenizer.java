package io.dermcap.model.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

/**
 * GPT-2's byte-level BPE (OpenAI's r50k_base, via jtokkit) with transformers 4.56.0's decoding of
 * generated ids for gpt2-medium: {@code decode(ids, skip_special_tokens=True)}, no clean-up of
 * tokenization spaces (the tokenizer default is False since 4.45; gpt2-medium's
 * tokenizer_config.json does not set it). Thread-safe.
 */
public final class Gpt2Tokenizer {

    /** {@code <|endoftext|>}: GPT-2's only special token, its EOS and pad. */
    public static final int EOS = 50256;
    public static final int VOCAB_SIZE = 50257;

    private final Encoding encoding = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

    /** Ordinary text to ids: no BOS is added and {@code <|endoftext|>} in the text is plain text. */
    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    /** Ids to text: special and out-of-vocabulary ids skipped, invalid UTF-8 replaced. */
    public String decode(int[] ids) {
        IntArrayList ordinary = new IntArrayList(ids.length);
        for (int id : ids) {
            if (id >= 0 && id < EOS) {
                ordinary.add(id);
            }
        }
        return encoding.decode(ordinary);
    }

    /**
     * The caption as the author's scripts report it: the generated ids decoded; if the prompt
     * occurs, everything up to and including its first occurrence dropped; surrounding whitespace
     * stripped (Python's {@code str.strip}); with {@code collapseWhitespace} (inference.py) every
     * whitespace run made one space ({@code ' '.join(s.split())}).
     */
    public String caption(int[] generated, String prompt, boolean collapseWhitespace) {
        String text = decode(generated);
        if (!prompt.isEmpty()) {
            int at = text.indexOf(prompt);
            if (at >= 0) {
                text = text.substring(at + prompt.length());
            }
        }
        return collapseWhitespace ? pythonCollapse(text) : pythonStrip(text);
    }

    /** {@code ' '.join(s.split())}: words separated by Python whitespace, joined by one space. */
    static String pythonCollapse(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            while (i < s.length() && isPythonSpace(s.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < s.length() && !isPythonSpace(s.charAt(i))) {
                i++;
            }
            if (i > start) {
                out.append(out.isEmpty() ? "" : " ").append(s, start, i);
            }
        }
        return out.toString();
    }

    /** {@code str.strip()}: removes the characters Python's {@code str.isspace} accepts at both ends. */
    static String pythonStrip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isPythonSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isPythonSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isPythonSpace(char c) {
        return (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
    }
}
