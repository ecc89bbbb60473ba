package io.dermcap.it.faults;

import io.dermcap.events.CaptionRequest;
import io.dermcap.events.Passthrough;
import io.dermcap.it.service.Lesions;
import io.dermcap.it.service.ServiceScenario;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Realistic request traffic: a few distinct lesion images in the scenario's bucket, many
 * requests naming them, each with its own DICOM-style UIDs and a medical record number in the
 * passthrough identifiers (the values the log check looks for).
 */
final class Traffic {

    private final ServiceScenario scenario;
    private final List<String> uris = new ArrayList<>();
    private final List<String> digests = new ArrayList<>();
    private final Random random;
    private final Set<String> identifiers = new LinkedHashSet<>();

    /** Uploads {@code images} distinct lesion images. */
    Traffic(ServiceScenario scenario, int images, long seed) {
        this.scenario = scenario;
        this.random = new Random(seed);
        for (int i = 0; i < images; i++) {
            String key = "lesions/" + i + (i % 2 == 0 ? ".png" : ".jpg");
            digests.add(scenario.putImage(key, Lesions.image(i)));
            uris.add(scenario.uri(key));
        }
    }

    /** Requests {@code prefix-from .. prefix-(from+n-1)}, cycling through the images. */
    List<CaptionRequest> requests(String prefix, int from, int n) {
        List<CaptionRequest> out = new ArrayList<>(n);
        for (int i = from; i < from + n; i++) {
            int image = i % uris.size();
            out.add(request(prefix + "-" + i, uris.get(image), digests.get(image)));
        }
        return out;
    }

    CaptionRequest request(String id, String uri, String sha256) {
        Passthrough ids = Passthrough.newBuilder()
                .setStudyInstanceUid(uid())
                .setSeriesInstanceUid(uid())
                .setSopInstanceUid(uid())
                .setSourceSystem("dermcap-faults")
                .setCorrelation(Map.of("mrn", "MRN" + (10_000_000 + random.nextInt(90_000_000)),
                        "accession", "ACC" + (1_000_000 + random.nextInt(9_000_000))))
                .build();
        identifiers.add(ids.getStudyInstanceUid());
        identifiers.add(ids.getSeriesInstanceUid());
        identifiers.add(ids.getSopInstanceUid());
        identifiers.addAll(ids.getCorrelation().values());
        return CaptionRequest.newBuilder()
                .setRequestId(id)
                .setImageUri(uri)
                .setExpectedSha256(sha256)
                .setIds(ids)
                .setRequestedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .build();
    }

    /** A DICOM UID under the 2.25 (UUID-derived) root: long, unique, and never in a log by chance. */
    private String uid() {
        return "2.25." + Math.abs(random.nextLong()) + Math.abs(random.nextInt());
    }

    /** Every patient-like identifier sent so far. */
    Set<String> identifiers() {
        return identifiers;
    }

    static List<String> keys(List<CaptionRequest> requests) {
        return requests.stream().map(CaptionRequest::getRequestId).toList();
    }
}
