#!/bin/bash
# Checks that the multi-site simulation catches broken merge rules: each mutant is a scratch copy of
# this tree (in a temporary directory, removed at the end) with one engine rule broken by sed; the
# simulation must fail on it. Prints one line per mutant: CAUGHT with the rule that broke and the
# shrunk size, MISSED, or STALE when the engine's code no longer has the line the mutant changes.
# Usage: tests-integration/sim-mutants.sh [SCHEDULES]   (default 300; needs the Maven deps offline)
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
SCHEDULES=${1:-300}
WORK=$(mktemp -d /tmp/sim-mutants.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
MERGE=src/main/java/io/stratafs/sync/Merge.java
REPLICA=src/main/java/io/stratafs/sync/Replica.java

mutant() { # NAME FILE SED_EXPRESSION MARKER: MARKER must appear in FILE once the mutation took
    local name=$1 file=$2 expr=$3 marker=$4 dir=$WORK/$1
    rsync -a --exclude target "$SRC"/ "$dir"/
    sed -i "$expr" "$dir/$file"
    if ! grep -qF "$marker" "$dir/$file"; then
        echo "STALE  $name: $file no longer has the line this mutant changes"
        return
    fi
    (cd "$dir" && mvn -o -B -q test -Dtest=MultiSiteSimTest#everyScheduleConverges \
        -Dstratafs.sim.schedules="$SCHEDULES" > "$WORK/$name.log" 2>&1)
    if grep -q "^shrunk in" "$WORK/$name.log"; then
        echo "CAUGHT $name: $(grep -m1 '^shrunk in' "$WORK/$name.log" | cut -c1-160)"
    else
        echo "MISSED $name: $SCHEDULES schedules passed"
    fi
    rm -rf "$dir"
}

# concurrent versions: a write drops the versions it does not dominate
mutant lose-concurrent-version $MERGE \
    's/if (!supersedes(mine, v)) {/if (!supersedes(mine, v) \&\& !mine.vv().concurrentWith(v.vv())) {/' \
    'concurrentWith(v.vv()))'
# Kleppmann moves: no undo/redo when an older move arrives after newer ones
mutant no-move-undo $MERGE \
    's/List<MoveRecord> later = store.movesAfter(m.id());/List<MoveRecord> later = List.of();/' \
    'later = List.of();'
# add-wins removal: a removal claims to have seen every write
mutant delete-wins $MERGE \
    's/VersionVector content = seen.content() == null ? VersionVector.EMPTY : seen.content();/VersionVector content = new VersionVector(java.util.Map.of("A", 99L, "B", 99L, "C", 99L, "D", 99L));/' \
    '"A", 99L'
# hybrid clock: applied stamps are not observed
mutant no-observe $REPLICA \
    's/clock.observe(e.op().id().hlc());/long ignored = e.op().id().hlc();/' \
    'long ignored = e.op().id().hlc();'
