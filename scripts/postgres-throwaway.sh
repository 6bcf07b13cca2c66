# Sourced by scripts/test. Starts a private, throwaway PostgreSQL server for the test run
# and exports LEADROUTER_TEST_POSTGRES_URL; stops and deletes it when the shell exits.
# Installs Debian's postgresql package first if no server binaries are found and we are
# root. Returns non-zero (having said why) when it cannot.

pg_find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"; return 0
  fi
  return 1
}

pg_throwaway_start() {
  local bindir
  if ! bindir=$(pg_find_bindir); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "scripts/test: installing Debian's postgresql package for the PostgreSQL tests" >&2
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || return 1
      bindir=$(pg_find_bindir) || return 1
    else
      echo "scripts/test: no PostgreSQL server binaries found (and not root to install them)" >&2
      return 1
    fi
  fi

  local run_as=()
  if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres || return 1
    run_as=(runuser -u postgres --)
  fi

  PG_TEST_DIR=$(mktemp -d /tmp/leadrouter-pg.XXXXXX) || return 1
  [ "$(id -u)" = 0 ] && chown postgres "$PG_TEST_DIR"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55439)

  "${run_as[@]}" "$bindir/initdb" -D "$PG_TEST_DIR/data" -U postgres -A trust -E UTF8 \
      --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1 || { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
  # Durability settings off: this server holds nothing but test data.
  "${run_as[@]}" "$bindir/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 \
      -o "-p $port -k $PG_TEST_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 \
          -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
  PG_TEST_BINDIR=$bindir
  PG_TEST_RUN_AS=("${run_as[@]}")
  trap pg_throwaway_stop EXIT
  export LEADROUTER_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "scripts/test: throwaway PostgreSQL ($("$bindir/postgres" --version)) on 127.0.0.1:$port" >&2
}

pg_throwaway_stop() {
  [ -n "${PG_TEST_DIR:-}" ] || return 0
  "${PG_TEST_RUN_AS[@]}" "$PG_TEST_BINDIR/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate stop \
      >/dev/null 2>&1 || true
  rm -rf "$PG_TEST_DIR"
  PG_TEST_DIR=
}
