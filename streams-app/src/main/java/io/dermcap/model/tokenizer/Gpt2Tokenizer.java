package io.dermcap.model.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

/**
 * GPT-2's byte-level BPE (OpenAI's r50k_base, via jtokkit) with Hugging Face's decoding of
 * generated ids: {@code decode(ids, skip_special_tokens=True)} with the GPT-2 tokenizer's
 * {@code clean_up_tokenization_spaces}. Thread-safe.
 */
public final class Gpt2Tokenizer {

    /** {@code <|endoftext|>}: GPT-2's only special token, its EOS and pad. */
    public static final int EOS = 50256;
    public static final int VOCAB_SIZE = 50257;

    private static final String[][] CLEAN_UP = {
            {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
            {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};

    private final Encoding encoding = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

    /** Ordinary text to ids: no BOS is added and {@code <|endoftext|>} in the text is plain text. */
    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    /** Ids to text: special and out-of-vocabulary ids skipped, invalid UTF-8 replaced, spaces before punctuation cleaned up. */
    public String decode(int[] ids) {
        IntArrayList ordinary = new IntArrayList(ids.length);
        for (int id : ids) {
            if (id >= 0 && id < EOS) {
                ordinary.add(id);
            }
        }
        String text = encoding.decode(ordinary);
        for (String[] rule : CLEAN_UP) {
            text = text.replace(rule[0], rule[1]);
        }
        return text;
    }

    /**
     * The caption as the released inference reports it: the generated ids decoded, the first
     * occurrence of the prompt removed, surrounding whitespace stripped (Python's {@code str.strip}).
     */
    public String caption(int[] generated, String prompt) {
        String text = decode(generated);
        if (!prompt.isEmpty()) {
            int at = text.indexOf(prompt);
            if (at >= 0) {
                text = text.substring(0, at) + text.substring(at + prompt.length());
            }
        }
        return pythonStrip(text);
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
