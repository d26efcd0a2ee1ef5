"""csirt-desk: 自治体CSIRTのインシデント受付・対応デスク.

The core package. Modules here never import ``textual`` or ``screens``;
only ``csirt_tui.app``, ``csirt_tui.cli`` and ``csirt_tui.__main__`` join
the core to the Textual UI.
"""

__version__ = "0.1.0"
