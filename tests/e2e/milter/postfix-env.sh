# Shared helpers for running a private Postfix instance on loopback (sourced by
# tests/e2e/milter-postfix.sh and crates/lexguard-milter/bench/run.sh).
#
# The instance has its own config_directory, queue and mailboxes under one temporary
# directory; the system Postfix configuration is never touched, and nothing listens
# beyond 127.0.0.1.

# Installs postfix and swaks (and miltertest when the archive has it) if missing.
pf_install() {
  local need=()
  [[ -x /usr/sbin/postfix ]] || need+=(postfix)
  command -v swaks >/dev/null 2>&1 || need+=(swaks)
  if ((${#need[@]} == 0)); then
    return 0
  fi
  echo "installing: ${need[*]}"
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string lexguard.test" | debconf-set-selections
  # Package lists may be missing or stale on a fresh machine: refresh them once.
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  if ! command -v miltertest >/dev/null 2>&1 && apt-cache show miltertest >/dev/null 2>&1; then
    need+=(miltertest)
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${need[@]}" >/dev/null
}

# A free TCP port on 127.0.0.1, starting from $1.
pf_free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
    p=$((p + 1))
  done
  echo "$p"
}

# pf_setup DIR SMTP_PORT MILTER ("" for none): writes the instance configuration.
pf_setup() {
  local dir=$1 port=$2 milter=$3
  local uid gid
  uid=$(id -u postfix)
  gid=$(id -g postfix)
  mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/mail"
  chmod 755 "$dir"
  chown postfix:postfix "$dir/data" "$dir/mail"
  cat >"$dir/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.lexguard.test
mydomain = lexguard.test
myorigin = lexguard.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps =
relay_domains =
virtual_mailbox_domains = example.com
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 1
message_size_limit = 104857600
virtual_mailbox_limit = 0
mailbox_size_limit = 0
smtputf8_enable = no
biff = no
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
smtpd_milters = $milter
non_smtpd_milters = \$smtpd_milters
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 60s
in_flow_delay = 0
EOF
  cat >"$dir/etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n - n 60   1 pickup
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000 0 flush
proxymap  unix  - - n -    - proxymap
smtp      unix  - - n -    - smtp
relay     unix  - - n -    - smtp
showq     unix  n - n -    - showq
error     unix  - - n -    - error
retry     unix  - - n -    - error
discard   unix  - - n -    - discard
local     unix  - n n -    - local
virtual   unix  - n n -    - virtual
lmtp      unix  - - n -    - lmtp
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
}

# pf_start DIR PORT: starts the instance and waits until it answers on PORT.
pf_start() {
  local dir=$1 port=$2 i
  if ! postfix -c "$dir/etc" start >/dev/null 2>&1; then
    # Postfix reports start-up errors to syslog, or to a terminal: show them through one.
    script -qc "postfix -c '$dir/etc' start" /dev/null >&2 || true
    postfix -c "$dir/etc" status >/dev/null 2>&1 || return 1
  fi
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "postfix did not start listening on $port" >&2
  return 1
}

# pf_stop DIR: stops the instance (if it runs).
pf_stop() {
  local dir=$1
  if [[ -f "$dir/etc/main.cf" ]] && postfix -c "$dir/etc" status >/dev/null 2>&1; then
    postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
    # `stop` returns before the master has exited; wait for it.
    local i
    for i in $(seq 1 100); do
      postfix -c "$dir/etc" status >/dev/null 2>&1 || break
      sleep 0.1
    done
  fi
}

# pf_set DIR KEY=VALUE...: changes main.cf and reloads.
pf_set() {
  local dir=$1
  shift
  postconf -c "$dir/etc" -e "$@"
  postfix -c "$dir/etc" reload >/dev/null 2>&1
}
