"""The perceptual objective shared by stylize and training: exact terms, targets apart from evaluation."""

import pytest
import torch
from PIL import Image

from neural_style.core import losses
from neural_style.core.objective import ContentTargets, PerceptualObjective, load_loss_network, mean_square
from neural_style.fast.training import Trainer
from neural_style.settings import TrainSettings

WEIGHTS = dict(content_weight=2.0, style_weight=3.0, tv_weight=0.5, tv_beta=1.5)


@pytest.fixture
def network(vgg16_file):
    return load_loss_network("relu2_2:0.5,relu3_1", "relu1_1,relu2_1:2", weights=vgg16_file)


def image(seed, h=24, w=28, batch=1):
    return torch.rand(batch, 3, h, w, generator=torch.Generator().manual_seed(seed))


def test_terms_follow_the_formula(network):
    styles, blend = [image(1), image(2, 20, 20)], [0.25, 0.75]
    objective = PerceptualObjective(network, styles, blend, **WEIGHTS)
    content, x = image(3), image(4)
    terms = objective(x, objective.content_targets(content))

    extractor = network.extractor
    with torch.no_grad():
        fc = extractor(content)
        grams = {n: sum(b * losses.gram_matrix(extractor(s)[n]) for b, s in zip(blend, styles))
                 for n in ("relu1_1", "relu2_1")}
    fx = extractor(x)
    content_term = sum(w / mean_square(fc[n]) * losses.content_loss(fx[n], fc[n])
                       for n, w in (("relu2_2", 0.5), ("relu3_1", 1.0)))
    style_term = sum(w / mean_square(grams[n]) * losses.style_loss(fx[n], grams[n])
                     for n, w in (("relu1_1", 1.0), ("relu2_1", 2.0)))
    tv = losses.total_variation(x, beta=1.5)
    assert torch.allclose(terms["content"], content_term, rtol=1e-6)
    assert torch.allclose(terms["style"], style_term, rtol=1e-6)
    assert torch.equal(terms["tv"], tv)
    assert torch.allclose(terms["total"], 2.0 * content_term + 3.0 * style_term + 0.5 * tv, rtol=1e-6)


def test_content_targets_are_a_value_not_a_closure(network):
    objective = PerceptualObjective(network, [image(1)], [1.0], **WEIGHTS)
    a, b = image(5), image(6)
    targets_a, targets_b = objective.content_targets(a), objective.content_targets(b)
    assert isinstance(targets_a, ContentTargets) and list(targets_a.scales) == ["relu2_2", "relu3_1"]
    assert float(objective(a, targets_a)["content"]) == 0.0
    assert float(objective(a, targets_b)["content"]) > 0.0
    # a batch of content images gives per-batch targets, as training needs
    batch = torch.cat([a, b])
    assert float(objective(batch, objective.content_targets(batch))["content"]) == 0.0
    # the scales are those of the whole target: crops of the features keep them
    assert torch.equal(targets_a.scales["relu3_1"], 1.0 / mean_square(targets_a.features["relu3_1"]))


def test_the_style_targets_need_no_style_image_afterwards(network):
    style = image(7)
    objective = PerceptualObjective(network, [style], [1.0], **WEIGHTS)
    kept = {n: g.clone() for n, g in objective.style_grams.items()}
    style.zero_()  # the caller's image may change or go: the targets were computed at construction
    assert all(torch.equal(kept[n], objective.style_grams[n]) for n in kept)


def test_training_evaluates_the_same_objective(vgg16_file, style_file, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (40, 40), (90, 120, 200)).save(photos / "a.png")
    settings = TrainSettings(image_size=32, batch_size=1, iterations=1, width=0.25, weights=str(vgg16_file))
    trainer = Trainer(style_file, photos, settings)
    assert isinstance(trainer.objective, PerceptualObjective)
    x, y = image(9, 32, 32, batch=2), image(10, 32, 32, batch=2)
    expected = trainer.objective(y, trainer.objective.content_targets(x))
    got = trainer.losses(x, y)
    assert all(torch.equal(got[k], expected[k]) for k in ("content", "style", "tv", "total"))
    assert (trainer.objective.content_weight, trainer.objective.tv_beta) == (settings.content_weight, settings.tv_beta)
