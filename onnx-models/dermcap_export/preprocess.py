"""open_clip's eval preprocessing with PIL + torchvision, the reference the Java side matches.

    Image.open(path).convert("RGB")          first frame; no EXIF rotation; alpha dropped
    Resize(224, BICUBIC)                     shorter side to 224, longer int(224·long/short)
    CenterCrop(224)
    ToTensor(), Normalize(mean, std)         = (uint8 / 255 - mean) / std in float32
"""

import numpy as np
import torch
from PIL import Image
from torchvision import transforms
from torchvision.transforms import InterpolationMode

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def load_rgb(path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def resize_crop(image: Image.Image, size: int = 224) -> Image.Image:
    return transforms.CenterCrop(size)(transforms.Resize(size, interpolation=InterpolationMode.BICUBIC)(image))


def cropped_pixels(path, size: int = 224) -> np.ndarray:
    """The uint8 [size, size, 3] image right before ToTensor."""
    return np.asarray(resize_crop(load_rgb(path), size), dtype=np.uint8)


def pixel_values(paths, size: int = 224, mean=CLIP_MEAN, std=CLIP_STD) -> torch.Tensor:
    """The normalised [N, 3, size, size] batch the vision encoder takes."""
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    return torch.stack([to_tensor(resize_crop(load_rgb(p), size)) for p in paths])
