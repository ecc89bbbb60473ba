package io.dermcap.model.generation;

import java.nio.FloatBuffer;

/**
 * The two numbers that turn a row of logits into log-probabilities the way torch's
 * {@code log_softmax} does ({@code (x - max) - log(sum(exp(x - max)))}, in float32), computed in
 * one pass with an online maximum and a fast exponential (relative error ~2e-7 per term, summed in
 * double: closer to the exact sum than torch's float accumulation).
 */
final class LogSoftmax {

    float max;
    float logSum;

    void of(FloatBuffer logits, int offset, int length) {
        float m = Float.NEGATIVE_INFINITY;
        double sum = 0;
        for (int v = 0; v < length; v++) {
            float x = logits.get(offset + v);
            if (x > m) {
                // rescale what was summed against the old maximum
                sum = sum * exp(m - x) + 1.0;
                m = x;
            } else {
                sum += exp(x - m);
            }
        }
        max = m;
        logSum = (float) Math.log(sum);
    }

    /** e^x for x ≤ 0: Cody–Waite reduction by ln 2, degree-6 polynomial, exponent bits. */
    static float exp(float x) {
        if (!(x >= -87.3f)) {
            return 0f; // also -inf and NaN
        }
        int k = Math.round(x * 1.44269504f);
        float r = x - k * 0.693145752f - k * 1.42860677e-6f;
        float p = 1f + r * (1f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.008333334f + r * 0.0013888889f)))));
        return p * Float.intBitsToFloat((k + 127) << 23);
    }
}
