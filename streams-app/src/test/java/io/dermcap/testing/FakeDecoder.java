package io.dermcap.testing;

import io.dermcap.image.ImageException;
import io.dermcap.image.PixelTensor;
import io.dermcap.pipeline.Preprocessor;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Decodes the fake fetcher's {@code img:<tag>} objects into a 2×2 tensor filled with the tag. */
public final class FakeDecoder implements Preprocessor {

    @Override
    public PixelTensor preprocess(byte[] encoded) throws ImageException {
        String s = new String(encoded, StandardCharsets.US_ASCII);
        if (s.equals("huge")) {
            throw new ImageException(ImageException.Reason.TOO_MANY_PIXELS, "100000x100000 is over the pixel limit");
        }
        if (!s.startsWith("img:")) {
            throw new ImageException(ImageException.Reason.UNSUPPORTED_FORMAT, "not an image format we decode");
        }
        float[] chw = new float[12];
        Arrays.fill(chw, Integer.parseInt(s.substring(4)));
        return new PixelTensor(2, chw);
    }
}
