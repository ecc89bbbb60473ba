package io.dermcap.image;

/**
 * What libjpeg (and so Pillow) does with the raw samples of a JPEG: the colour space it guesses
 * from the markers ({@code jdapimin.c}, {@code default_decompress_parms}) and its fixed-point
 * YCbCr → RGB tables ({@code jdcolor.c}). ImageIO's raw raster is upsampled but not converted;
 * converting here keeps ICC profiles and colour management out of it, as Pillow does.
 */
final class JpegColor {

    enum Space { GRAY, YCBCR, RGB, CMYK, YCCK }

    /** The frame header of a JPEG stream: its size and libjpeg's guess of its colour space (null if unsupported). */
    record Frame(int width, int height, Space space) {
    }

    private static final int SCALEBITS = 16;
    private static final int ONE_HALF = 1 << (SCALEBITS - 1);
    private static final int[] CR_R = new int[256];
    private static final int[] CB_B = new int[256];
    private static final int[] CR_G = new int[256];
    private static final int[] CB_G = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int x = i - 128;
            CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
            CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
            CR_G[i] = -fix(0.71414) * x;
            CB_G[i] = -fix(0.34414) * x + ONE_HALF;
        }
    }

    private JpegColor() {
    }

    private static int fix(double x) {
        return (int) (x * (1L << SCALEBITS) + 0.5);
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /** libjpeg's YCbCr → RGB for one pixel, written to {@code out[o..o+2]}. */
    static void yccToRgb(int y, int cb, int cr, byte[] out, int o) {
        out[o] = (byte) clamp(y + CR_R[cr]);
        out[o + 1] = (byte) clamp(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
        out[o + 2] = (byte) clamp(y + CB_B[cb]);
    }

    /**
     * Pillow's RGB for one CMYK pixel as libjpeg hands it over ({@code out_color_space = JCS_CMYK},
     * YCCK already turned into CMYK): Pillow reads it as "CMYK;I" (Adobe's inverted polarity) and
     * {@code convert("RGB")} applies {@code cmyk2rgb}.
     */
    static void libjpegCmykToRgb(int c, int m, int y, int k, byte[] out, int o) {
        int nk = k; // 255 - (255 - k): Pillow inverts, cmyk2rgb inverts back
        out[o] = (byte) clamp(nk - mulDiv255(255 - c, nk));
        out[o + 1] = (byte) clamp(nk - mulDiv255(255 - m, nk));
        out[o + 2] = (byte) clamp(nk - mulDiv255(255 - y, nk));
    }

    /** libjpeg's YCCK → CMYK (inverted RGB from the YCC part, K untouched) then Pillow as above. */
    static void ycckToRgb(int y, int cb, int cr, int k, byte[] out, int o) {
        int c = 255 - clamp(y + CR_R[cr]);
        int m = 255 - clamp(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
        int ye = 255 - clamp(y + CB_B[cb]);
        libjpegCmykToRgb(c, m, ye, k, out, o);
    }

    /** Pillow's {@code MULDIV255}: a * b / 255, rounded the way its fixed-point macro does. */
    static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    /**
     * The frame header, with the colour space libjpeg assumes from the JFIF/Adobe markers and
     * component ids; null when the stream has no frame header before the first scan.
     */
    static Frame frame(byte[] jpeg) {
        boolean jfif = false;
        int adobeTransform = -1;
        int p = 2;
        while (p + 4 <= jpeg.length) {
            if ((jpeg[p] & 0xff) != 0xff) {
                return null;
            }
            int marker = jpeg[p + 1] & 0xff;
            if (marker == 0xff) {
                p++;
                continue;
            }
            int length = ((jpeg[p + 2] & 0xff) << 8) | (jpeg[p + 3] & 0xff);
            int body = p + 4;
            if (marker == 0xe0 && startsWith(jpeg, body, "JFIF\0")) {
                jfif = true;
            } else if (marker == 0xee && startsWith(jpeg, body, "Adobe") && body + 11 < jpeg.length) {
                adobeTransform = jpeg[body + 11] & 0xff;
            } else if (isStartOfFrame(marker) && body + 6 <= jpeg.length) {
                int components = jpeg[body + 5] & 0xff;
                int[] ids = new int[components];
                for (int i = 0; i < components && body + 6 + 3 * i < jpeg.length; i++) {
                    ids[i] = jpeg[body + 6 + 3 * i] & 0xff;
                }
                int height = ((jpeg[body + 1] & 0xff) << 8) | (jpeg[body + 2] & 0xff);
                int width = ((jpeg[body + 3] & 0xff) << 8) | (jpeg[body + 4] & 0xff);
                return new Frame(width, height, space(components, ids, jfif, adobeTransform));
            } else if (marker == 0xda) {
                return null;
            }
            p += 2 + length;
        }
        return null;
    }

    private static Space space(int components, int[] ids, boolean jfif, int adobeTransform) {
        switch (components) {
            case 1:
                return Space.GRAY;
            case 3:
                if (jfif) {
                    return Space.YCBCR;
                }
                if (adobeTransform >= 0) {
                    return adobeTransform == 0 ? Space.RGB : Space.YCBCR;
                }
                return ids[0] == 'R' && ids[1] == 'G' && ids[2] == 'B' ? Space.RGB : Space.YCBCR;
            case 4:
                if (adobeTransform >= 0) {
                    return adobeTransform == 0 ? Space.CMYK : Space.YCCK;
                }
                return Space.CMYK;
            default:
                return null;
        }
    }

    private static boolean isStartOfFrame(int marker) {
        return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
    }

    private static boolean startsWith(byte[] data, int at, String text) {
        if (at + text.length() > data.length) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (data[at + i] != (byte) text.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
