#!/bin/bash
# Template for the sbatch scripts of examples/usage/5_slurm.yaml: fob replaces __FOB_COMMAND__
# with the command each job runs. Load modules or activate environments here.
export FOB_DATA_MIRROR=${FOB_DATA_MIRROR:-}

__FOB_COMMAND__
