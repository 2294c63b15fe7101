#!/bin/bash
# svcscore's nightly run on a Slurm cluster: a job array whose task K of N
# runs 'svcscore score --shard K/N' (K = $SLURM_ARRAY_TASK_ID, arrays count
# from 0).  Each shard keeps its own token store, scores and metrics under
# $SVCSCORE_STATE/shard-K on a shared file system; rotated tokens must
# survive to the next night.  Keep N fixed, or see the README (Running it
# nightly) before changing it.
#
# Submit every night, e.g. from scrontab:  30 1 * * * sbatch svcscore-slurm.sh
# or once for a given start:            sbatch --begin=01:30 svcscore-slurm.sh
#
#SBATCH --job-name=svcscore
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=20:00:00
#SBATCH --output=svcscore-%A_%a.log
# SIGTERM two minutes before the time limit: the fetch keeps its journal,
# and the next run fetches only what is left
#SBATCH --signal=B:TERM@120
set -eu

STATE=${SVCSCORE_STATE:-$HOME/svcscore}
K=${SLURM_ARRAY_TASK_ID:?run this script with sbatch --array}
N=${SLURM_ARRAY_TASK_COUNT:-$(( ${SLURM_ARRAY_TASK_MAX:-3} + 1 ))}

# SMARTCAR_CLIENT_ID=... and SMARTCAR_CLIENT_SECRET=..., mode 0600
set -a
. "$STATE/credentials.env"
set +a

D=$STATE/shard-$K
mkdir -p "$D"
umask 077
exec svcscore score --shard "$K/$N" --vehicles "$STATE/book.csv" --api \
    --token-store "$D/tokens.jsonl" --out "$D/scores.csv" \
    --concurrency 16 --progress-every 60 --metrics "$D/svcscore.prom"
