package io.dermcap.image;

import io.dermcap.image.ImageException.Reason;

/**
 * Encoded image → {@code pixel_values} the way the reference pipeline makes them:
 * {@code PIL.Image.open(f).convert("RGB")}, torchvision {@code Resize(size, BICUBIC)} (shorter side
 * to {@code size}, the longer one {@code int(size * long / short)}), {@code CenterCrop(size)}
 * (offsets {@code int(round((h - size) / 2.0))}, Python's half-to-even), {@code ToTensor} and
 * {@code Normalize(mean, std)} in float32. Thread-safe.
 */
public final class ImagePreprocessor {

    private final PreprocessingSpec spec;
    private final ImageLimits limits;

    public ImagePreprocessor(PreprocessingSpec spec, ImageLimits limits) {
        this.spec = spec;
        this.limits = limits;
    }

    public PixelTensor preprocess(byte[] encoded) throws ImageException {
        return normalise(crop(encoded));
    }

    /** The decoded, resized and centre-cropped image before {@code ToTensor}: the parity fixtures' uint8 pixels. */
    public RgbImage crop(byte[] encoded) throws ImageException {
        return resizeAndCrop(decode(encoded));
    }

    /** The decoded image, after the byte and pixel limits were checked (the pixel limit from the header). */
    public RgbImage decode(byte[] encoded) throws ImageException {
        if (encoded.length == 0) {
            throw new ImageException(Reason.EMPTY, "the image is empty (0 bytes)");
        }
        if (encoded.length > limits.maxBytes()) {
            throw new ImageException(Reason.TOO_LARGE,
                    "the image has " + encoded.length + " bytes, over the limit of " + limits.maxBytes());
        }
        ImageDecoder.Format format = ImageDecoder.sniff(encoded);
        if (format == null) {
            throw new ImageException(Reason.UNSUPPORTED_FORMAT,
                    "not a JPEG, PNG, GIF, BMP, TIFF or WebP image (starts with " + hexPrefix(encoded) + ")");
        }
        try (ImageDecoder.Opened image = ImageDecoder.open(encoded, format)) {
            long[] size = image.size();
            long width = size[0];
            long height = size[1];
            if (width <= 0 || height <= 0) {
                throw new ImageException(Reason.EMPTY_DIMENSIONS, format + " image is " + width + "x" + height + " pixels");
            }
            if (width * height > limits.maxPixels()) {
                throw new ImageException(Reason.TOO_MANY_PIXELS, format + " image is " + width + "x" + height
                        + " = " + width * height + " pixels, over the limit of " + limits.maxPixels());
            }
            return image.decode();
        }
    }

    /** torchvision's shorter-side resize and centre crop, resizing only the pixels the crop keeps. */
    public RgbImage resizeAndCrop(RgbImage image) {
        int size = spec.imageSize();
        int w = image.width();
        int h = image.height();
        int shorter = Math.min(w, h);
        int longer = (int) ((double) ((long) size * Math.max(w, h)) / shorter);
        int newW = w <= h ? size : longer;
        int newH = w <= h ? longer : size;
        int top = (int) Math.rint((newH - size) / 2.0);
        int left = (int) Math.rint((newW - size) / 2.0);
        return BicubicResampler.resizeWindow(image, newW, newH, left, top, size, size);
    }

    /** {@code ToTensor} then {@code Normalize}: ((v / 255) - mean) / std, each step in float32, CHW. */
    public PixelTensor normalise(RgbImage crop) {
        int size = spec.imageSize();
        if (crop.width() != size || crop.height() != size) {
            throw new IllegalArgumentException("expected a " + size + "x" + size + " crop, got " + crop.width() + "x" + crop.height());
        }
        float[] mean = spec.mean();
        float[] std = spec.std();
        byte[] rgb = crop.rgb();
        int plane = size * size;
        float[] chw = new float[3 * plane];
        for (int p = 0; p < plane; p++) {
            for (int c = 0; c < 3; c++) {
                float v = (rgb[3 * p + c] & 0xff) / 255f;
                chw[c * plane + p] = (v - mean[c]) / std[c];
            }
        }
        return new PixelTensor(size, chw);
    }

    private static String hexPrefix(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(8, b.length); i++) {
            s.append(String.format("%02x", b[i] & 0xff));
        }
        return s.toString();
    }
}
