package io.dermcap.demo;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.QuadCurve2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Random;

/**
 * Synthetic lesion-like photographs, deterministic per seed: a skin-tone background with uneven
 * lighting and blotches, one pigmented lesion with an irregular, soft border, a darker core and
 * a few dots, sometimes hairs; varied sizes and aspect ratios, as PNG or JPEG. They exercise
 * decoding, resizing and the model path with plausible input; they are not medical images.
 */
public final class SyntheticLesions {

    /** Encodings the demo uploads; most clinical photos arrive as JPEG. */
    public enum Format {
        PNG("png", "image/png"), JPEG("jpg", "image/jpeg");

        private final String extension;
        private final String contentType;

        Format(String extension, String contentType) {
            this.extension = extension;
            this.contentType = contentType;
        }

        public String extension() {
            return extension;
        }

        public String contentType() {
            return contentType;
        }
    }

    /** One encoded image. */
    public record Image(Format format, int width, int height, byte[] bytes) {

        /** e.g. {@code jpg 412x305}. */
        public String describe() {
            return format.extension() + " " + width + "x" + height;
        }
    }

    /** Fitzpatrick-like skin tones, light to dark. */
    private static final int[][] SKIN = {
            {241, 203, 177}, {228, 182, 150}, {206, 150, 116}, {175, 118, 86}, {130, 86, 60}, {92, 60, 44}};
    private static final double[] ASPECTS = {1.0, 4.0 / 3, 3.0 / 4, 3.0 / 2, 2.0 / 3, 16.0 / 9, 1.25};

    private SyntheticLesions() {
    }

    /** The image for {@code seed}: one in three is a PNG, the others JPEG. */
    public static Image generate(long seed) {
        return generate(seed, Math.floorMod(seed, 3) == 0 ? Format.PNG : Format.JPEG);
    }

    public static Image generate(long seed, Format format) {
        Random r = new Random(seed * 0x9E3779B97F4A7C15L + 17);
        int longSide = 224 + r.nextInt(417);
        double aspect = ASPECTS[r.nextInt(ASPECTS.length)];
        int w = aspect >= 1 ? longSide : (int) Math.round(longSide * aspect);
        int h = aspect >= 1 ? (int) Math.round(longSide / aspect) : longSide;
        BufferedImage img = paint(r, w, h);
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            if (!ImageIO.write(img, format.extension(), out)) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
            return new Image(format, w, h, out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BufferedImage paint(Random r, int w, int h) {
        int[] tone = SKIN[r.nextInt(SKIN.length)];
        double[] skin = new double[3];
        double brightness = 1 + 0.05 * r.nextGaussian();
        for (int c = 0; c < 3; c++) {
            skin[c] = tone[c] * brightness + r.nextGaussian() * 2;
        }
        Blotches blotches = new Blotches(r, w, h);
        Lesion lesion = new Lesion(r, w, h);
        // uneven lighting: a soft highlight somewhere and darker corners
        double lx = w * (0.3 + 0.4 * r.nextDouble());
        double ly = h * (0.3 + 0.4 * r.nextDouble());
        double diag = Math.hypot(w, h);

        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double light = 1.06 - 0.28 * Math.hypot(x - lx, y - ly) / diag;
                double redness = blotches.at(x, y);
                // erythema: a little more red, less green, in proportion to the skin's own colour
                double rr = skin[0] * (light + 0.04 * redness);
                double gg = skin[1] * (light - 0.07 * redness);
                double bb = skin[2] * (light - 0.04 * redness);
                double a = lesion.alpha(x, y);
                if (a > 0) {
                    double[] pigment = lesion.pigment(x, y, skin);
                    rr = rr * (1 - a) + pigment[0] * a;
                    gg = gg * (1 - a) + pigment[1] * a;
                    bb = bb * (1 - a) + pigment[2] * a;
                }
                row[x] = (clamp(rr) << 16) | (clamp(gg) << 8) | clamp(bb);
            }
            img.setRGB(0, y, w, 1, row, 0, w);
        }
        drawHairs(img, r);
        return img;
    }

    /** Faint reddish patches: a few wide Gaussian bumps. */
    private record Blotches(double[] x, double[] y, double[] inverseSpread) {
        Blotches(Random r, int w, int h) {
            this(new double[3], new double[3], new double[3]);
            for (int i = 0; i < 3; i++) {
                x[i] = w * r.nextDouble();
                y[i] = h * r.nextDouble();
                double s = Math.min(w, h) * (0.15 + 0.3 * r.nextDouble());
                inverseSpread[i] = 1 / (2 * s * s);
            }
        }

        double at(double px, double py) {
            double v = 0;
            for (int i = 0; i < x.length; i++) {
                double dx = px - x[i];
                double dy = py - y[i];
                v += Math.exp(-(dx * dx + dy * dy) * inverseSpread[i]);
            }
            return Math.min(1, v);
        }
    }

    /**
     * A pigmented lesion: radius {@code R(1 + sum a_k sin(k theta + phi_k))} for an irregular
     * border, a soft edge, a darker eccentric core and a few dark dots.
     */
    private static final class Lesion {
        private final double cx;
        private final double cy;
        private final double radius;
        private final double stretch;
        private final double[] amplitude = new double[5];
        private final double[] phase = new double[5];
        private final double edge;
        private final double darkness;
        private final double coreX;
        private final double coreY;
        private final double coreRadius;
        private final double[][] dots;

        Lesion(Random r, int w, int h) {
            int side = Math.min(w, h);
            cx = w * (0.5 + 0.15 * (r.nextDouble() - 0.5) * 2);
            cy = h * (0.5 + 0.15 * (r.nextDouble() - 0.5) * 2);
            radius = side * (0.12 + 0.22 * r.nextDouble());
            stretch = 0.7 + 0.6 * r.nextDouble();
            for (int k = 0; k < amplitude.length; k++) {
                amplitude[k] = r.nextDouble() * 0.22 / (k + 1);
                phase[k] = r.nextDouble() * 2 * Math.PI;
            }
            edge = 0.03 + 0.09 * r.nextDouble();
            darkness = 0.35 + 0.3 * r.nextDouble();
            double angle = r.nextDouble() * 2 * Math.PI;
            coreX = cx + Math.cos(angle) * radius * 0.3 * r.nextDouble();
            coreY = cy + Math.sin(angle) * radius * 0.3 * r.nextDouble();
            coreRadius = radius * (0.25 + 0.3 * r.nextDouble());
            dots = new double[r.nextInt(7)][];
            for (int i = 0; i < dots.length; i++) {
                double a = r.nextDouble() * 2 * Math.PI;
                double d = radius * (0.2 + 0.7 * r.nextDouble());
                dots[i] = new double[]{cx + Math.cos(a) * d, cy + Math.sin(a) * d, 1.5 + side * 0.012 * r.nextDouble()};
            }
        }

        /** 1 inside, 0 outside, a smooth ramp across the border. */
        double alpha(double x, double y) {
            double dx = (x - cx) / stretch;
            double dy = y - cy;
            double dist = Math.hypot(dx, dy);
            if (dist > radius * 1.6) {
                return 0;
            }
            double theta = Math.atan2(dy, dx);
            double border = 1;
            for (int k = 0; k < amplitude.length; k++) {
                border += amplitude[k] * Math.sin((k + 2) * theta + phase[k]);
            }
            double t = dist / (radius * border);
            return 1 - smoothstep(1 - edge, 1 + edge, t);
        }

        double[] pigment(double x, double y, double[] skin) {
            double core = 1 - smoothstep(0.6, 1.0, Math.hypot(x - coreX, y - coreY) / coreRadius);
            double dot = 0;
            for (double[] d : dots) {
                dot = Math.max(dot, 1 - smoothstep(0.7, 1.0, Math.hypot(x - d[0], y - d[1]) / d[2]));
            }
            double shade = darkness * (1 - 0.45 * core) * (1 - 0.5 * dot);
            // pigment is brown: red falls least, blue most
            return new double[]{skin[0] * shade * 1.05, skin[1] * shade * 0.82, skin[2] * shade * 0.7};
        }
    }

    private static void drawHairs(BufferedImage img, Random r) {
        int hairs = r.nextInt(4);
        if (hairs == 0) {
            return;
        }
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        int w = img.getWidth();
        int h = img.getHeight();
        for (int i = 0; i < hairs; i++) {
            int shade = 25 + r.nextInt(40);
            g.setColor(new Color(shade, (int) (shade * 0.8), (int) (shade * 0.7)));
            g.setStroke(new BasicStroke(1f + r.nextFloat() * 1.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            g.draw(new QuadCurve2D.Double(r.nextDouble() * w, r.nextDouble() * h, r.nextDouble() * w, r.nextDouble() * h,
                    r.nextDouble() * w, r.nextDouble() * h));
        }
        g.dispose();
    }

    private static double smoothstep(double from, double to, double v) {
        double t = Math.max(0, Math.min(1, (v - from) / (to - from)));
        return t * t * (3 - 2 * t);
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }
}
