package io.dermcap.it.service;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Random;

/** Synthetic lesion-like photos (a pigmented blob on skin tones), deterministic per seed. */
public final class Lesions {

    private Lesions() {
    }

    /** A PNG or JPEG of varied size and aspect ratio. */
    public static byte[] image(int seed) {
        Random r = new Random(seed);
        int w = 180 + r.nextInt(260);
        int h = 180 + r.nextInt(260);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        Color skin = new Color(200 + r.nextInt(40), 150 + r.nextInt(40), 120 + r.nextInt(40));
        g.setPaint(new GradientPaint(0, 0, skin, w, h, skin.darker()));
        g.fillRect(0, 0, w, h);
        Color lesion = new Color(60 + r.nextInt(80), 30 + r.nextInt(50), 20 + r.nextInt(40));
        double lw = w * (0.2 + 0.4 * r.nextDouble());
        double lh = h * (0.2 + 0.4 * r.nextDouble());
        g.setPaint(new GradientPaint((float) (w / 2 - lw / 2), 0, lesion, (float) (w / 2 + lw / 2), 0, lesion.brighter()));
        g.fill(new Ellipse2D.Double(w / 2.0 - lw / 2, h / 2.0 - lh / 2, lw, lh));
        g.dispose();
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(img, seed % 2 == 0 ? "png" : "jpg", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
