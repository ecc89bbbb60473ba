package io.dermcap.image;

/**
 * Pillow's antialiased bicubic resize ({@code Image.resize(size, BICUBIC)}, libImaging/Resample.c)
 * for 8-bit RGB, bit for bit: double-precision filter weights normalised per output pixel, turned
 * into 22-bit fixed point, a horizontal pass rounded to uint8, then a vertical pass.
 *
 * <p>Each output pixel depends only on its own weights, so computing just a window of the resized
 * image (the centre crop) gives the same bytes as resizing everything and cropping after.
 */
public final class BicubicResampler {

    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final double SUPPORT = 2.0;

    private BicubicResampler() {
    }

    /** The whole image resized to {@code outWidth × outHeight}. */
    public static RgbImage resize(RgbImage src, int outWidth, int outHeight) {
        return resizeWindow(src, outWidth, outHeight, 0, 0, outWidth, outHeight);
    }

    /**
     * The window {@code [x0, x0 + width) × [y0, y0 + height)} of {@code src} resized to
     * {@code outWidth × outHeight}.
     */
    public static RgbImage resizeWindow(RgbImage src, int outWidth, int outHeight, int x0, int y0, int width, int height) {
        if (outWidth < 1 || outHeight < 1 || x0 < 0 || y0 < 0 || width < 1 || height < 1
                || x0 + width > outWidth || y0 + height > outHeight) {
            throw new IllegalArgumentException("window " + width + "x" + height + "+" + x0 + "+" + y0
                    + " outside a " + outWidth + "x" + outHeight + " image");
        }
        Weights horizontal = Weights.of(src.width(), outWidth, x0, width);
        Weights vertical = Weights.of(src.height(), outHeight, y0, height);

        // Pillow skips a pass whose axis keeps its size (an identity pass, so this is exact).
        boolean needHorizontal = outWidth != src.width();
        boolean needVertical = outHeight != src.height();

        int firstRow = vertical.start[0];
        int lastRow = vertical.start[height - 1] + vertical.count[height - 1];
        byte[] rows;
        int rowsWidth;
        int rowOffset;
        if (needHorizontal) {
            rows = horizontalPass(src, horizontal, firstRow, lastRow);
            rowsWidth = width;
            rowOffset = firstRow;
        } else {
            rows = src.rgb();
            rowsWidth = src.width();
            rowOffset = 0;
        }
        byte[] out;
        if (needVertical) {
            out = verticalPass(rows, rowsWidth, rowOffset, vertical, needHorizontal ? 0 : x0, width);
        } else {
            out = copyWindow(rows, rowsWidth, needHorizontal ? 0 : x0, y0 - rowOffset, width, height);
        }
        return new RgbImage(width, height, out);
    }

    private static byte[] horizontalPass(RgbImage src, Weights w, int firstRow, int lastRow) {
        byte[] in = src.rgb();
        int inStride = 3 * src.width();
        int outWidth = w.count.length;
        byte[] out = new byte[3 * outWidth * (lastRow - firstRow)];
        int o = 0;
        for (int y = firstRow; y < lastRow; y++) {
            int row = y * inStride;
            for (int xx = 0; xx < outWidth; xx++) {
                int k = xx * w.ksize;
                int p = row + 3 * w.start[xx];
                int r = 1 << (PRECISION_BITS - 1);
                int g = r;
                int b = r;
                for (int i = 0; i < w.count[xx]; i++, p += 3) {
                    int c = w.fixed[k + i];
                    r += (in[p] & 0xff) * c;
                    g += (in[p + 1] & 0xff) * c;
                    b += (in[p + 2] & 0xff) * c;
                }
                out[o++] = clip8(r);
                out[o++] = clip8(g);
                out[o++] = clip8(b);
            }
        }
        return out;
    }

    private static byte[] verticalPass(byte[] in, int inWidth, int rowOffset, Weights w, int x0, int width) {
        int stride = 3 * inWidth;
        int outHeight = w.count.length;
        byte[] out = new byte[3 * width * outHeight];
        int o = 0;
        for (int yy = 0; yy < outHeight; yy++) {
            int k = yy * w.ksize;
            int top = (w.start[yy] - rowOffset) * stride;
            for (int x = x0; x < x0 + width; x++) {
                int p = top + 3 * x;
                int r = 1 << (PRECISION_BITS - 1);
                int g = r;
                int b = r;
                for (int i = 0; i < w.count[yy]; i++, p += stride) {
                    int c = w.fixed[k + i];
                    r += (in[p] & 0xff) * c;
                    g += (in[p + 1] & 0xff) * c;
                    b += (in[p + 2] & 0xff) * c;
                }
                out[o++] = clip8(r);
                out[o++] = clip8(g);
                out[o++] = clip8(b);
            }
        }
        return out;
    }

    private static byte[] copyWindow(byte[] in, int inWidth, int x0, int y0, int width, int height) {
        byte[] out = new byte[3 * width * height];
        for (int y = 0; y < height; y++) {
            System.arraycopy(in, 3 * ((y0 + y) * inWidth + x0), out, 3 * y * width, 3 * width);
        }
        return out;
    }

    private static byte clip8(int v) {
        int s = v >> PRECISION_BITS;
        return (byte) (s < 0 ? 0 : Math.min(s, 255));
    }

    static double bicubic(double x) {
        final double a = -0.5;
        if (x < 0.0) {
            x = -x;
        }
        if (x < 1.0) {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0.0;
    }

    /**
     * Per output pixel along one axis: the first input index, how many inputs, and their
     * fixed-point weights ({@code precompute_coeffs} + {@code normalize_coeffs_8bpc}).
     */
    record Weights(int ksize, int[] start, int[] count, int[] fixed) {

        static Weights of(int inSize, int outSize, int first, int n) {
            // Pillow passes the box edges as float; (double)(in1 - in0) is exact for real sizes.
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = SUPPORT * filterScale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] start = new int[n];
            int[] count = new int[n];
            int[] fixed = new int[n * ksize];
            double[] k = new double[ksize];
            for (int i = 0; i < n; i++) {
                int xx = first + i;
                double center = (xx + 0.5) * scale;
                double ss = 1.0 / filterScale;
                int xmin = Math.max((int) (center - support + 0.5), 0);
                int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
                double ww = 0.0;
                for (int x = 0; x < xmax; x++) {
                    double w = bicubic((x + xmin - center + 0.5) * ss);
                    k[x] = w;
                    ww += w;
                }
                for (int x = 0; x < xmax; x++) {
                    double v = ww != 0.0 ? k[x] / ww : k[x];
                    fixed[i * ksize + x] = v < 0
                            ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                            : (int) (0.5 + v * (1 << PRECISION_BITS));
                }
                start[i] = xmin;
                count[i] = Math.max(xmax, 0);
            }
            return new Weights(ksize, start, count, fixed);
        }
    }
}
