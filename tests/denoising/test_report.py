"""denoise's --report, built by one typed builder: its keys in order, the means only when scored."""

from dataclasses import asdict

from neural_style.core.stop import StopReason
from neural_style.denoising.report import DenoiseBatch, DenoiseReport
from neural_style.settings import DenoiseSettings


def test_the_report_keys_in_order_and_the_means_only_when_scored():
    batch = DenoiseBatch(records=[{"input": "a.png", "output": "o/a.png"}], jobs=2)
    data = DenoiseReport.of(batch, DenoiseSettings()).to_dict()
    assert list(data) == ["command", "settings", "jobs", "images", "failures", "unprocessed", "stop_reason"]
    assert data["command"] == "denoise" and data["settings"] == asdict(DenoiseSettings()) and data["jobs"] == 2
    assert data["images"] == batch.records and data["stop_reason"] == StopReason.COMPLETED == "completed"
    batch.mean_psnr, batch.mean_ssim = 30.0, 0.9
    assert list(DenoiseReport.of(batch, DenoiseSettings()).to_dict())[-2:] == ["mean_psnr", "mean_ssim"]
