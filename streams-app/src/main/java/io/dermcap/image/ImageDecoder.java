package io.dermcap.image;

import io.dermcap.image.ImageException.Reason;

import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;

/**
 * Encoded bytes → 8-bit RGB exactly as {@code PIL.Image.open(f).convert("RGB")} (Pillow 9.4)
 * gives them: alpha dropped (not composited), palettes looked up (transparency ignored), grey
 * replicated, 16-bit grey clipped to 0..255 (mode "I"), other 16-bit samples reduced to their
 * high byte, CMYK through Pillow's naive {@code cmyk2rgb}, no EXIF rotation, no colour management,
 * first frame/page only. Thread-safe (a reader per call).
 */
final class ImageDecoder {

    enum Format { JPEG, PNG, GIF, BMP, TIFF, WEBP }

    private ImageDecoder() {
    }

    /** The format from the magic bytes, or null when it is none we decode. */
    static Format sniff(byte[] b) {
        if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
            return Format.JPEG;
        }
        if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
            return Format.PNG;
        }
        if (b.length >= 6 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F' && b[3] == '8') {
            return Format.GIF;
        }
        if (b.length >= 2 && b[0] == 'B' && b[1] == 'M') {
            return Format.BMP;
        }
        if (b.length >= 4 && ((b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0)
                || (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42))) {
            return Format.TIFF;
        }
        if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F'
                && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
            return Format.WEBP;
        }
        return null;
    }

    /** An open reader on the first image, for reading the header before any pixels. */
    static Opened open(byte[] bytes, Format format) throws ImageException {
        ImageInputStream in;
        try {
            in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            throw new ImageException(Reason.CORRUPT, "cannot read the bytes: " + e.getMessage(), e);
        }
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.name().toLowerCase(Locale.ROOT));
        if (!readers.hasNext()) {
            throw new ImageException(Reason.UNSUPPORTED_FORMAT, "no " + format + " decoder is installed");
        }
        ImageReader reader = readers.next();
        reader.setInput(in, true, true);
        Opened opened = new Opened(format, bytes, reader);
        reader.addIIOReadWarningListener(opened);
        return opened;
    }

    /** A reader positioned on an image's header; {@link #decode()} reads the pixels once. */
    static final class Opened implements AutoCloseable, IIOReadWarningListener {
        private final Format format;
        private final byte[] bytes;
        private final ImageReader reader;
        private String truncation;

        private Opened(Format format, byte[] bytes, ImageReader reader) {
            this.format = format;
            this.bytes = bytes;
            this.reader = reader;
        }

        /**
         * Width and height from the header alone. PNG, GIF, BMP and JPEG headers are read here
         * (ImageIO's readers fail on a zero size before reporting it); TIFF and WebP by the reader.
         */
        long[] size() throws ImageException {
            long[] size = headerSize();
            if (size != null) {
                return size;
            }
            try {
                return new long[] {reader.getWidth(0), reader.getHeight(0)};
            } catch (IOException | RuntimeException e) {
                throw corrupt("its header", e);
            }
        }

        private long[] headerSize() throws ImageException {
            switch (format) {
                case PNG:
                    requireLength(24, "IHDR");
                    return new long[] {u32be(16), u32be(20)};
                case GIF:
                    requireLength(10, "logical screen descriptor");
                    return new long[] {u16le(6), u16le(8)};
                case BMP:
                    requireLength(26, "DIB header");
                    if (u32le(14) == 12) { // OS/2 BITMAPCOREHEADER: 16-bit sizes
                        return new long[] {u16le(18), u16le(20)};
                    }
                    return new long[] {(int) u32le(18), Math.abs((long) (int) u32le(22))}; // negative height: top-down rows
                case JPEG:
                    JpegColor.Frame frame = JpegColor.frame(bytes);
                    if (frame == null) {
                        throw new ImageException(Reason.CORRUPT, "JPEG has no frame header before its first scan");
                    }
                    return new long[] {frame.width(), frame.height()};
                default:
                    return null;
            }
        }

        private void requireLength(int n, String what) throws ImageException {
            if (bytes.length < n) {
                throw new ImageException(Reason.CORRUPT, format + " image is truncated inside its " + what + " (" + bytes.length + " bytes)");
            }
        }

        private long u32be(int at) {
            return (bytes[at] & 0xffL) << 24 | (bytes[at + 1] & 0xffL) << 16 | (bytes[at + 2] & 0xffL) << 8 | (bytes[at + 3] & 0xffL);
        }

        private long u32le(int at) {
            return (bytes[at + 3] & 0xffL) << 24 | (bytes[at + 2] & 0xffL) << 16 | (bytes[at + 1] & 0xffL) << 8 | (bytes[at] & 0xffL);
        }

        private long u16le(int at) {
            return (bytes[at + 1] & 0xffL) << 8 | (bytes[at] & 0xffL);
        }

        RgbImage decode() throws ImageException {
            if (format == Format.WEBP) {
                checkRiffLength();
            }
            RgbImage image;
            try {
                image = format == Format.JPEG ? decodeJpeg() : toRgb(reader.read(0));
            } catch (IOException | RuntimeException e) {
                throw corrupt("its pixels", e);
            }
            if (truncation != null) {
                throw new ImageException(Reason.CORRUPT, format + " image is truncated or corrupt: " + truncation);
            }
            return image;
        }

        /** TwelveMonkeys decodes a cut-off WebP without complaint; the RIFF header says how long it must be. */
        private void checkRiffLength() throws ImageException {
            long declared = 8L + u32le(4);
            if (declared > bytes.length) {
                throw new ImageException(Reason.CORRUPT, "WebP image is truncated: its RIFF header declares "
                        + declared + " bytes, " + bytes.length + " present");
            }
        }

        private ImageException corrupt(String what, Exception e) {
            String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (e instanceof IIOException && e.getCause() != null && e.getCause().getMessage() != null) {
                detail += " (" + e.getCause().getMessage() + ")";
            }
            return new ImageException(Reason.CORRUPT, "cannot decode " + what + " as " + format + ": " + detail, e);
        }

        private RgbImage decodeJpeg() throws IOException, ImageException {
            JpegColor.Frame frame = JpegColor.frame(bytes);
            JpegColor.Space space = frame == null ? null : frame.space();
            if (space == null) {
                throw new ImageException(Reason.UNSUPPORTED_FORMAT, "JPEG with other than 1, 3 or 4 colour components");
            }
            Raster raster = reader.readRaster(0, null);
            int w = raster.getWidth();
            int h = raster.getHeight();
            byte[] out = new byte[3 * w * h];
            int bands = raster.getNumBands();
            int[] row = new int[w * bands];
            for (int y = 0, o = 0; y < h; y++) {
                raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
                for (int x = 0, i = 0; x < w; x++, i += bands, o += 3) {
                    switch (space) {
                        case GRAY -> out[o] = out[o + 1] = out[o + 2] = (byte) row[i];
                        case RGB -> {
                            out[o] = (byte) row[i];
                            out[o + 1] = (byte) row[i + 1];
                            out[o + 2] = (byte) row[i + 2];
                        }
                        case YCBCR -> JpegColor.yccToRgb(row[i], row[i + 1], row[i + 2], out, o);
                        case CMYK -> JpegColor.libjpegCmykToRgb(row[i], row[i + 1], row[i + 2], row[i + 3], out, o);
                        case YCCK -> JpegColor.ycckToRgb(row[i], row[i + 1], row[i + 2], row[i + 3], out, o);
                    }
                }
            }
            return new RgbImage(w, h, out);
        }

        private RgbImage toRgb(BufferedImage image) {
            Raster raster = image.getRaster();
            ColorModel cm = image.getColorModel();
            int w = raster.getWidth();
            int h = raster.getHeight();
            int bands = raster.getNumBands();
            byte[] out = new byte[3 * w * h];
            int[] row = new int[w * bands];
            Sample sample = sampleRule(cm, raster);
            boolean cmyk = cm.getColorSpace().getType() == ColorSpace.TYPE_CMYK;
            IndexColorModel palette = cm instanceof IndexColorModel icm ? icm : null;
            for (int y = 0, o = 0; y < h; y++) {
                raster.getPixels(0, y, w, 1, row);
                for (int x = 0, i = 0; x < w; x++, i += bands, o += 3) {
                    if (palette != null) {
                        int index = row[i];
                        out[o] = (byte) palette.getRed(index);
                        out[o + 1] = (byte) palette.getGreen(index);
                        out[o + 2] = (byte) palette.getBlue(index);
                    } else if (cmyk) {
                        // Pillow's cmyk2rgb on samples stored without inversion (TIFF)
                        int nk = 255 - sample.of(row[i + 3], 3);
                        out[o] = (byte) Math.max(0, nk - JpegColor.mulDiv255(sample.of(row[i], 0), nk));
                        out[o + 1] = (byte) Math.max(0, nk - JpegColor.mulDiv255(sample.of(row[i + 1], 1), nk));
                        out[o + 2] = (byte) Math.max(0, nk - JpegColor.mulDiv255(sample.of(row[i + 2], 2), nk));
                    } else if (cm.getNumColorComponents() < 3) {
                        out[o] = out[o + 1] = out[o + 2] = (byte) sample.of(row[i], 0);
                    } else {
                        out[o] = (byte) sample.of(row[i], 0);
                        out[o + 1] = (byte) sample.of(row[i + 1], 1);
                        out[o + 2] = (byte) sample.of(row[i + 2], 2);
                    }
                }
            }
            return new RgbImage(w, h, out);
        }

        /** How Pillow turns one raw sample of band {@code band} into 8 bits. */
        private Sample sampleRule(ColorModel cm, Raster raster) {
            if (cm instanceof DirectColorModel) {
                // packed 15/16-bit BMP: Pillow's BGR;15 / BGR;16 unpackers scale v * 255 / max
                int[] bits = raster.getSampleModel().getSampleSize();
                return (v, band) -> bits[band] == 8 ? v : v * 255 / ((1 << bits[band]) - 1);
            }
            int depth = raster.getSampleModel().getSampleSize(0);
            if (depth <= 8) {
                return (v, band) -> v;
            }
            boolean greyOnly = cm.getNumComponents() == 1;
            if (greyOnly && raster.getTransferType() != DataBuffer.TYPE_BYTE) {
                // 16-bit grey opens as mode "I" (or "I;16"), whose conversion to RGB clips at 255
                return (v, band) -> Math.min(v, 255);
            }
            int shift = depth - 8;
            return (v, band) -> v >>> shift;
        }

        @Override
        public void warningOccurred(ImageReader source, String warning) {
            // libjpeg warns and pads with grey where Pillow fails with "image file is truncated"
            String w = warning.toLowerCase(Locale.ROOT);
            if (w.contains("premature end") || w.contains("truncated") || w.contains("end of file")
                    || w.contains("corrupt jpeg data")) {
                truncation = warning;
            }
        }

        @Override
        public void close() {
            Object input = reader.getInput();
            reader.dispose();
            if (input instanceof ImageInputStream stream) {
                try {
                    stream.close();
                } catch (IOException ignored) {
                    // a stream over a byte array has nothing to release
                }
            }
        }
    }

    @FunctionalInterface
    private interface Sample {
        int of(int value, int band);
    }
}
