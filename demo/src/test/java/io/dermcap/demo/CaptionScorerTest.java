package io.dermcap.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CaptionScorerTest {

    private static final HeldOutLesions HELD_OUT = HeldOutLesions.builtIn();
    private static final CaptionScorer SCORER = HELD_OUT.scorer();

    /** The Python side writes captions from the same vocabulary: every training-style caption reads back exactly. */
    @Test
    void everyHeldOutCaptionReadsBackAsItsOwnAttributes() {
        assertThat(HELD_OUT.examples()).hasSizeGreaterThanOrEqualTo(64);
        for (HeldOutLesions.Example e : HELD_OUT.examples()) {
            CaptionScorer.Score score = SCORER.score(e.caption(), e.attributes());
            assertThat(score.missed()).as(e.file() + ": " + e.caption()).isEmpty();
            assertThat(score.matched()).isEqualTo(4).isEqualTo(score.total());
            assertThat(e.bytes()).as(e.file()).startsWith(0xFF, 0xD8); // a JPEG
        }
    }

    @Test
    void readsWholeWordsInAnyCase() {
        Map<String, String> read = SCORER.read("A SMALL blue-grey lesion on DEEP skin, no hair.");
        assertThat(read).containsEntry("size", "small")
                .containsEntry("colour", "blue-grey").containsEntry("skin", "deep").containsEntry("hair", "no");
    }

    @Test
    void anAttributeNamedTwiceOrNotAtAllIsUnreadAndMissed() {
        Map<String, String> truth = Map.of("size", "small", "colour", "red", "skin", "fair", "hair", "no");
        CaptionScorer.Score score = SCORER.score("A single small red or black lesion on fair skin, hairless.", truth);
        assertThat(score.read()).doesNotContainKeys("colour", "hair");
        assertThat(score.matched()).isEqualTo(2);
        assertThat(score.missed()).containsExactly("colour=red read nothing", "hair=no read nothing");
        assertThat(SCORER.score("", truth).matched()).isZero();
    }

    @Test
    void wrongValuesAreNamedInTheMisses() {
        Map<String, String> truth = Map.of("size", "large", "colour", "brown", "skin", "olive", "hair", "yes");
        CaptionScorer.Score score = SCORER.score("A large black lesion on olive skin, hairs present.", truth);
        assertThat(score.matched()).isEqualTo(3);
        assertThat(score.missed()).containsExactly("colour=brown read black");
    }

    @Test
    void refusesAnEmptyVocabularyAndATruthWithoutAnAttribute() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertThatThrownBy(() -> CaptionScorer.of(json.readTree("{}"))).hasMessageContaining("non-empty");
        assertThatThrownBy(() -> CaptionScorer.of(json.readTree("{\"a\": {\"x\": []}}"))).hasMessageContaining("a=x has no phrases");
        CaptionScorer one = CaptionScorer.of(json.readTree("{\"hair\": {\"no\": [\"no hair\"], \"yes\": [\"hairs present\"]}}"));
        assertThatThrownBy(() -> one.score("no hair", Map.of())).hasMessageContaining("no value for hair");
    }
}
