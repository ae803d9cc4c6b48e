"""The reference networks: built offline, the right head, local weights, Inception's aux loss."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="needs the train extra")

from torch import nn  # noqa: E402
from torchvision import models  # noqa: E402

from kaokore.errors import UsageError  # noqa: E402
from kaokore.learn.models import (  # noqa: E402
    AUX_LOSS_WEIGHT,
    build_model,
    default_image_size,
    logits_and_loss,
    uses_aux_logits,
)


@pytest.mark.parametrize("arch", ["alexnet", "resnet18", "mobilenet_v2"])
def test_small_networks_run_at_their_smallest_input(arch: str) -> None:
    from kaokore.learn.models import min_image_size

    size = min_image_size(arch)
    model = build_model(arch, 4, image_size=size).eval()
    with torch.inference_mode():
        assert model(torch.zeros(2, 3, size, size)).shape == (2, 4)
    with pytest.raises(UsageError, match=f"{arch} needs --image-size {size} or more"):
        build_model(arch, 4, image_size=size - 1)


def test_inception_uses_its_aux_head_at_the_paper_size_only() -> None:
    assert default_image_size("inception_v3") == 299 and default_image_size("vgg11") == 256
    assert uses_aux_logits("inception_v3", 299) and not uses_aux_logits("inception_v3", 298)
    small = build_model("inception_v3", 2, image_size=96)
    assert small.AuxLogits is None
    with pytest.raises(UsageError, match="inception_v3 needs --image-size 75 or more"):
        build_model("inception_v3", 2, image_size=74)


def test_aux_logits_enter_the_loss() -> None:
    criterion = nn.CrossEntropyLoss()
    target = torch.tensor([0, 1])
    main, aux = torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    logits, loss = logits_and_loss(models.InceptionOutputs(main, aux), target, criterion)
    assert torch.equal(logits, main)
    expected = criterion(main, target) + AUX_LOSS_WEIGHT * criterion(aux, target)
    assert torch.allclose(loss, expected)
    assert torch.allclose(logits_and_loss(main, target, criterion)[1], criterion(main, target))


def test_local_weights_load_everything_but_the_head(tmp_path: Path) -> None:
    source = models.resnet18(weights=None, num_classes=1000)
    path = tmp_path / "resnet18-imagenet.pth"
    torch.save(source.state_dict(), path)
    model = build_model("resnet18", 4, image_size=32, weights=path)
    assert torch.equal(model.conv1.weight, source.conv1.weight)
    assert torch.equal(model.layer4[1].bn2.running_var, source.layer4[1].bn2.running_var)
    assert model.fc.out_features == 4
    # A checkpoint of ours (DDP "module." prefix included) loads too.
    torch.save(
        {"model": {f"module.{k}": v for k, v in model.state_dict().items()}}, tmp_path / "best.pt"
    )
    again = build_model("resnet18", 2, image_size=32, weights=tmp_path / "best.pt")
    assert torch.equal(again.conv1.weight, source.conv1.weight)


def test_weights_of_another_network_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "mobilenet.pth"
    torch.save(models.mobilenet_v2(weights=None).state_dict(), path)
    with pytest.raises(
        UsageError,
        match=r"^weights '.*mobilenet.pth': does not fit resnet18 \(missing: conv1.weight",
    ):
        build_model("resnet18", 2, image_size=32, weights=path)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(UsageError, match="cannot read it"):
        build_model("resnet18", 2, image_size=32, weights=tmp_path / "junk.pth")
