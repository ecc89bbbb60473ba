package io.dermcap.model.generation;

import io.dermcap.model.Caption.FinishReason;
import io.dermcap.model.GenerationSettings;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class GeneratorTest {

    static final GenerationSettings RELEASED = new GenerationSettings("p", 4, 60, 24, 4, 1.15, 0.6, true);
    static final GenerationSettings GREEDY = new GenerationSettings("p", 1, 60, 24, 4, 1.15, 0.6, true);

    /** The searches of one step run side by side here, as in the engine. */
    private static final java.util.concurrent.ExecutorService POOL = java.util.concurrent.Executors.newFixedThreadPool(3);

    private final ToyModel model = new ToyModel(40);

    @Test
    void releasedSettingsMatchTheReferenceForManyItems() throws Exception {
        List<GenerationSettings> settings = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            settings.add(i % 3 == 0 ? GREEDY : RELEASED);
        }
        assertMatchesReference(settings);
    }

    @Test
    void mixedRandomSettingsInOneBatchMatchTheReference() throws Exception {
        Random random = new Random(11);
        for (int trial = 0; trial < 25; trial++) {
            List<GenerationSettings> settings = new ArrayList<>();
            int items = 1 + random.nextInt(6);
            for (int i = 0; i < items; i++) {
                int max = 1 + random.nextInt(25);
                settings.add(new GenerationSettings("p", 1 + random.nextInt(5), max, random.nextInt(max + 1),
                        random.nextInt(5), 1.0 + random.nextInt(4) * 0.15, -1.0 + random.nextInt(6) * 0.5,
                        random.nextBoolean()));
            }
            assertMatchesReference(settings);
        }
    }

    @Test
    void prefillsOnceExpandsBeamsAndDropsFinishedItems() throws Exception {
        ToyModel.Session session = model.new Session();
        GenerationSettings shortGreedy = new GenerationSettings("p", 1, 3, 3, 0, 1.0, 1.0, true);
        Generator.Outcome outcome = new Generator(model.eos, null).generate(session, items(2), List.of(RELEASED, shortGreedy));
        assertThat(session.prefills).isEqualTo(1);
        // step 1: 4 beams of item 0 and the greedy row; the greedy item ends after 3 tokens
        assertThat(session.rowsPerStep.get(0)).isEqualTo(5);
        assertThat(session.rowsPerStep.get(1)).isEqualTo(5);
        assertThat(session.rowsPerStep.subList(2, session.rowsPerStep.size())).containsOnly(4);
        assertThat(outcome.generations().get(1).tokenIds()).hasSize(3);
        assertThat(outcome.generations().get(1).finishReason()).isEqualTo(FinishReason.MAX_NEW_TOKENS);
        assertThat(outcome.timings().steps()).isEqualTo(session.rowsPerStep.size());
    }

    @Test
    void minNewTokensHoldsBackEosAndTheCaptionEndsOnEos() throws Exception {
        // this toy model prefers EOS more and more: without min_new_tokens it ends early
        GenerationSettings early = new GenerationSettings("p", 4, 60, 0, 4, 1.15, 0.6, true);
        Generation free = run(early);
        Generation held = run(RELEASED);
        assertThat(held.tokenIds().length).isGreaterThanOrEqualTo(24);
        assertThat(free.tokenIds().length).isLessThan(24);
        assertThat(held.finishReason()).isEqualTo(FinishReason.EOS);
        assertThat(held.tokenIds()).doesNotContain(model.eos);
    }

    @Test
    void noFourGramRepeatsInAnyOutput() throws Exception {
        for (int item = 0; item < 10; item++) {
            Generation g = new Generator(model.eos, null).generate(model.new Session(), List.of(item(item)), List.of(RELEASED)).generations().get(0);
            int[] t = g.tokenIds();
            java.util.Set<List<Integer>> seen = new java.util.HashSet<>();
            for (int i = 0; i + 4 <= t.length; i++) {
                assertThat(seen.add(List.of(t[i], t[i + 1], t[i + 2], t[i + 3]))).as("item %d 4-gram at %d", item, i).isTrue();
            }
        }
    }

    private Generation run(GenerationSettings s) throws Exception {
        return new Generator(model.eos, null).generate(model.new Session(), List.of(item(3)), List.of(s)).generations().get(0);
    }

    private void assertMatchesReference(List<GenerationSettings> settings) throws Exception {
        List<Generation> batched = new Generator(model.eos, POOL).generate(model.new Session(), items(settings.size()), settings).generations();
        for (int i = 0; i < settings.size(); i++) {
            Generation expected = HfReference.generate(model, i, settings.get(i));
            assertThat(batched.get(i).tokenIds()).as("item %d %s", i, settings.get(i)).isEqualTo(expected.tokenIds());
            assertThat(batched.get(i).finishReason()).as("item %d %s", i, settings.get(i)).isEqualTo(expected.finishReason());
        }
    }

    private static List<PrefillItem> items(int n) {
        List<PrefillItem> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            items.add(item(i));
        }
        return items;
    }

    private static PrefillItem item(int i) {
        return new PrefillItem(new float[] {i}, new int[0]);
    }
}
