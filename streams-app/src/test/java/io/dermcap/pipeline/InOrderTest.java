package io.dermcap.pipeline;

import io.dermcap.metrics.ServiceMetrics;
import io.dermcap.testing.FakeCaptioner;
import io.dermcap.testing.FakeDecoder;
import io.dermcap.testing.FakeFetcher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class InOrderTest {

    @Test
    void outcomesComeInJobOrderThoughFailuresFinishFirstAndBatchesKeepTheirSize() throws Exception {
        FakeCaptioner captioner = new FakeCaptioner();
        FakeFetcher fetcher = new FakeFetcher();
        List<InferencePipeline.Job> jobs = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            String uri = "s3://b/" + i;
            if (i % 3 != 1) { // 1 and 4 are missing: they fail at once, before the slow captions before them
                fetcher.put(uri, i);
                fetcher.delay(uri, 100);
            }
            jobs.add(new InferencePipeline.Job(100 + i, uri, null, FakeCaptioner.DEFAULTS, 0));
        }
        List<Integer> order = new ArrayList<>();
        List<Outcome> outcomes = new ArrayList<>();
        try (InferencePipeline pipeline = new InferencePipeline(captioner, fetcher, new FakeDecoder(), new PipelineOptions(2, 4, 2),
                new ServiceMetrics(new SimpleMeterRegistry()))) {
            InOrder.run(pipeline, jobs, 2, (i, o) -> {
                order.add(i);
                outcomes.add(o);
            });
            // the inference thread hands a batch's permits back just after its outcomes
            await().until(() -> pipeline.availablePermits() == 4);
        }
        assertThat(order).containsExactly(0, 1, 2, 3, 4, 5, 6);
        for (int i = 0; i < 7; i++) {
            if (i % 3 == 1) {
                assertThat(outcomes.get(i)).isInstanceOfSatisfying(Outcome.Failed.class,
                        f -> assertThat(f.reason()).isEqualTo(FailureReason.OBJECT_MISSING));
            } else {
                assertThat(outcomes.get(i)).isInstanceOf(Outcome.Captioned.class);
            }
        }
        assertThat(captioner.batchSizes).allSatisfy(n -> assertThat(n).isBetween(1, 2)).hasSizeGreaterThanOrEqualTo(3);
    }
}
