package io.dermcap.model.tokenizer;

import io.dermcap.TestPaths;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class Gpt2TokenizerTest {

    static final String PROMPT = "Describe the skin lesion concisely (morphology, color, scale, border, location) "
            + "in one sentence.Conclude with the most likely diagnosis (1–3 words).";

    private final Gpt2Tokenizer tokenizer = new Gpt2Tokenizer();

    @Test
    void encodesThePromptWithGpt2Ids() {
        int[] ids = tokenizer.encode(PROMPT);
        // 37 tokens: with the 32 prefix embeddings the 69-position prefill of PERFORMANCE.md; no BOS.
        // Well-known GPT-2 ids: " the" 262, "," 11, ")" 8, "." 13, " (" 357, the en dash 1906.
        assertThat(ids).hasSize(37);
        assertThat(ids[2]).isEqualTo(262);
        assertThat(ids[11]).isEqualTo(11);
        assertThat(ids[19]).isEqualTo(8);
        assertThat(ids[23]).isEqualTo(13);
        assertThat(ids[31]).isEqualTo(357);
        assertThat(ids[33]).isEqualTo(1906);
        assertThat(ids).doesNotContain(Gpt2Tokenizer.EOS);
        assertThat(tokenizer.decode(ids)).isEqualTo(PROMPT);
    }

    @Test
    void roundTripsEveryReferenceCaption() throws IOException {
        List<String> lines = Files.readAllLines(TestPaths.release().resolve("reference_captions_dermlip.tsv"));
        String[] header = lines.get(0).split("\t");
        assertThat(header[1]).isEqualTo("gt");
        assertThat(header[2]).isEqualTo("gen");
        int checked = 0;
        for (String line : lines.subList(1, lines.size())) {
            String[] cols = line.split("\t");
            for (String caption : new String[] {cols[1], cols[2]}) {
                int[] ids = tokenizer.encode(caption);
                assertThat(java.util.Arrays.stream(ids).allMatch(id -> id >= 0 && id < Gpt2Tokenizer.EOS)).isTrue();
                assertThat(ids).isNotEmpty();
                // no clean-up of tokenization spaces (transformers 4.56.0): every caption comes back as it was
                assertThat(tokenizer.decode(ids)).isEqualTo(caption);
                checked++;
            }
        }
        assertThat(checked).isEqualTo(128);
    }

    @Test
    void skipsEosAndKeepsTokenizationSpacesLikeTransformers456() {
        int[] ids = concat(tokenizer.encode("A brown macule , well defined ."), new int[] {Gpt2Tokenizer.EOS, Gpt2Tokenizer.EOS});
        assertThat(tokenizer.decode(ids)).isEqualTo("A brown macule , well defined .");
        assertThat(tokenizer.decode(new int[] {Gpt2Tokenizer.EOS})).isEmpty();
    }

    @Test
    void captionDropsEverythingThroughTheFirstEchoedPromptAndStrips() {
        int[] echoed = concat(tokenizer.encode("Note: " + PROMPT), tokenizer.encode("  Pigmented  macule.\n" + PROMPT + " Again\n"));
        assertThat(tokenizer.caption(echoed, PROMPT, false)).isEqualTo("Pigmented  macule.\n" + PROMPT + " Again");
        assertThat(tokenizer.caption(echoed, PROMPT, true)).isEqualTo("Pigmented macule. " + PROMPT + " Again");
        assertThat(tokenizer.caption(tokenizer.encode(" Pigmented macule. "), PROMPT, false)).isEqualTo("Pigmented macule.");
        assertThat(Gpt2Tokenizer.pythonStrip("\u00a0\u3000 x \u2029")).isEqualTo("x");
        assertThat(Gpt2Tokenizer.pythonCollapse("\u00a0a\u2003 b\t\u0085c ")).isEqualTo("a b c");
    }

    @Test
    void bytesOfASplitCharacterDecodeLikePythonsReplaceErrors() {
        // GPT-2 gives every byte a token: the en dash is E2 80 93, i.e. byte tokens 158, 222, 241
        assertThat(tokenizer.decode(new int[] {158, 222, 241})).isEqualTo("–");
        // b"\xe2".decode("utf-8", "replace") and b"\xe2\x80" both give one U+FFFD
        assertThat(tokenizer.decode(new int[] {158})).isEqualTo("\ufffd");
        assertThat(tokenizer.decode(new int[] {158, 222})).isEqualTo("\ufffd");
        assertThat(tokenizer.decode(new int[] {158, 222, 37})).isEqualTo("\ufffdF");
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
