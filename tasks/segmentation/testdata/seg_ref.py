#!/usr/bin/python3
"""References for tasks/segmentation (run by TestLossAndMetricsMatchReferences).

1. HF SegFormer's loss in PyTorch: logits [B, C, h, w] upsampled with
   F.interpolate(size=labels.shape[-2:], mode="bilinear", align_corners=False), then
   F.cross_entropy(ignore_index=255); and its gradient with respect to the logits.
2. mmseg's IoUMetric, transcribed in numpy (mmseg/evaluation/metrics/iou_metric.py:
   intersect_and_union per image, summed over the split, then total_area_to_metrics with
   np.nanmean and percent rounded to 2 decimals) on the argmax of the upsampled logits.

The labels include ignore pixels (255), a class present in no label (its IoU is 0 where
predicted, NaN otherwise; its Acc is NaN) and classes never predicted.

usage: seg_ref.py OUT.json
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

B, C, h, w, H, W = 3, 7, 5, 6, 13, 11
IGNORE = 255


def intersect_and_union(pred, label, num_classes, ignore_index):
    mask = label != ignore_index
    pred, label = pred[mask], label[mask]
    intersect = pred[pred == label]
    area_intersect = np.histogram(intersect, bins=num_classes, range=(0, num_classes - 1))[0]
    area_pred = np.histogram(pred, bins=num_classes, range=(0, num_classes - 1))[0]
    area_label = np.histogram(label, bins=num_classes, range=(0, num_classes - 1))[0]
    return area_intersect, area_pred + area_label - area_intersect, area_pred, area_label


def main():
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    logits = (torch.randn(B, C, h, w, dtype=torch.float64) * 2).requires_grad_(True)
    labels = rng.randint(0, C, size=(B, H, W))
    labels[labels == 5] = 4           # class 5 never labelled
    labels[rng.rand(B, H, W) < 0.15] = IGNORE
    lab_t = torch.from_numpy(labels)
    up = F.interpolate(logits, size=(H, W), mode="bilinear", align_corners=False)
    loss = F.cross_entropy(up, lab_t, ignore_index=IGNORE)
    loss.backward()
    pred = up.argmax(dim=1).detach().numpy()
    tot = [np.zeros(C) for _ in range(4)]
    for i in range(B):
        for k, a in enumerate(intersect_and_union(pred[i], labels[i], C, IGNORE)):
            tot[k] += a
    ti, tu, tp, tl = tot
    with np.errstate(divide="ignore", invalid="ignore"):
        iou, acc = ti / tu, ti / tl
    metrics = {
        "aAcc": float(np.round(ti.sum() / tl.sum() * 100, 2)),
        "mIoU": float(np.round(np.nanmean(iou) * 100, 2)),
        "mAcc": float(np.round(np.nanmean(acc) * 100, 2)),
    }
    with open(sys.argv[1], "w") as f:
        json.dump({"logits_shape": [B, C, h, w], "logits": logits.detach().flatten().tolist(),
                   "labels_shape": [B, H, W], "labels": labels.flatten().tolist(),
                   "loss": loss.item(), "grad": logits.grad.flatten().tolist(), "metrics": metrics,
                   "nan_iou_classes": int(np.isnan(iou).sum()), "nan_acc_classes": int(np.isnan(acc).sum())}, f)


if __name__ == "__main__":
    main()
