"""dermcap-export: turns the released DermLIP + GPT-2 captioner into a dermcap ONNX bundle.

Needs only torch and onnx. `python3 -m dermcap_export --help` lists the commands.
"""

__version__ = "0.1.0"
