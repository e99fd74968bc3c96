// SPDX-License-Identifier: GPL-2.0
/*
 * ternvm: parse the command line into a vm_config, then create, run and
 * destroy the VM (vm.h).  Exit status: 0 poweroff or quit, 2 guest reset
 * with --no-reboot (without it the machine resets in place), 1 error.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/log.h"
#include "lib/version.h"
#include "migration/migration.h"
#include "vm/boot.h"
#include "vm/control.h"
#include "vm/sandbox.h"
#include "vm/vm.h"

static struct vm *signal_vm;	/* for the SIGINT/SIGTERM handler only */
static volatile sig_atomic_t vm_running;	/* 0 while building or unwinding */

static void usage(FILE *f)
{
	fprintf(f,
"usage: ternvm --kernel BZIMAGE [options]\n"
"  --kernel FILE       Linux bzImage (64-bit boot protocol)\n"
"  --initrd FILE       initramfs\n"
"  --append CMDLINE    kernel command line\n"
"  --memory SIZE       guest RAM, e.g. 512M or 1G (default 512M)\n"
"  --cpus N            vCPUs, 1-%d (default 1)\n"
"  --disk FILE         raw image as virtio-blk\n"
"  --disk-aio MODE     io_uring (default; threads where the kernel has\n"
"                      none) or threads: how the disk's worker reads\n"
"  --net tap=IFNAME[,mac=MAC][,vhost=on|off]  virtio-net on a tap device;\n"
"                      vhost=on: the kernel's vhost-net moves the frames\n"
"  --rng               virtio-rng fed from /dev/urandom\n"
"  --vconsole FILE     virtio-console, output to FILE\n"
"  --console SPEC      serial console: stdio (default), file:PATH, unix:PATH\n"
"  --control PATH      JSON-lines control socket (mode 0600: root and this\n"
"                      user may use it)\n"
"  --control-group GROUP  also members of GROUP (socket mode 0660)\n"
"  --state-dir DIR     save-state/load-state may name files in DIR (else\n"
"                      the client passes the open file, as ternctl does)\n"
"  --mem-path FILE     back RAM with FILE (shared: a new ternvm can resume on it)\n"
"  --mem-prealloc      allocate all of guest RAM at start (fails there if the\n"
"                      host cannot hold it); a destination's migration then\n"
"                      writes into pages that exist\n"
"  --incoming FILE     load a saved state (save-state) instead of booting\n"
"  --incoming URI      wait paused for a live migration on URI (tcp:HOST:PORT\n"
"                      or unix:PATH), run the guest once the source commits\n"
"  --incoming-migration URI  the same\n"
"  --incoming-timeout MS  with --incoming URI: fail if no source said hello\n"
"                      within MS ms (default 600000; 0: wait for ever)\n"
"  --tls-creds DIR     TLS 1.3 on migrations, both ways: DIR holds ca-cert.pem,\n"
"                      server-cert.pem/server-key.pem (to receive) and\n"
"                      client-cert.pem/client-key.pem (to send); the peer's\n"
"                      certificate must come from that CA, the destination's\n"
"                      must name the host of the migrate URI\n"
"  --tls-psk FILE      TLS 1.3 with a pre-shared key: one line IDENTITY:HEXKEY\n"
"                      (16 to 64 bytes), the same file on both hosts\n"
"  --paused            with --incoming URI: after commit, load everything and\n"
"                      stay paused until cont (the source may still revert)\n"
"  --no-reboot         a guest reboot ends ternvm (status 2) instead of\n"
"                      resetting the machine in place\n"
"  --sandbox on|off    seccomp filters per thread class (default on; off\n"
"                      to debug: a call outside its class ends ternvm)\n"
"  --list-commands     print the control socket's commands (query-commands)\n"
"                      as JSON and exit\n"
"  --help              this text\n"
"  --version           print ternvm's version\n"
"exit status: 0 guest powered off or quit, 2 guest reset with --no-reboot,\n"
"1 error\n",
		VM_MAX_CPUS);
}

static void list_commands(void)
{
	struct json_object *list = control__commands();

	puts(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PRETTY));
	json_object_put(list);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 20;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end || v > (1ULL << (63 - shift)))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* A MAC as six hex octets "xx:xx:xx:xx:xx:xx": unicast and not zero. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	int i;

	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = strtoul(s + 3 * i, NULL, 16);
	if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EINVAL;		/* multicast or broadcast; zero */
	return 0;
}

/*
 * --net tap=IFNAME[,mac=MAC][,vhost=on|off]: the tap's name (at most
 * IFNAMSIZ - 1 bytes), then options in any order.
 */
static int parse_net(const char *arg, struct vm_config *cfg)
{
	static char tap[16];
	const char *comma;
	size_t n;

	if (strncmp(arg, "tap=", 4))
		return -EINVAL;
	arg += 4;
	comma = strchr(arg, ',');
	n = comma ? (size_t)(comma - arg) : strlen(arg);
	if (!n || n >= sizeof(tap))
		return -EINVAL;
	memcpy(tap, arg, n);
	tap[n] = '\0';
	cfg->net_tap = tap;
	cfg->net_mac_set = false;
	cfg->net_vhost = false;
	while (comma) {
		char opt[24];

		arg = comma + 1;
		comma = strchr(arg, ',');
		n = comma ? (size_t)(comma - arg) : strlen(arg);
		if (n >= sizeof(opt))
			return -EINVAL;
		memcpy(opt, arg, n);
		opt[n] = '\0';
		if (!strncmp(opt, "mac=", 4) && !parse_mac(opt + 4, cfg->net_mac))
			cfg->net_mac_set = true;
		else if (!strcmp(opt, "vhost=on") || !strcmp(opt, "vhost=off"))
			cfg->net_vhost = !strcmp(opt, "vhost=on");
		else
			return -EINVAL;
	}
	return 0;
}

/* A group name or number; -1 if neither. */
static int parse_group(const char *s)
{
	struct group *g = getgrnam(s);
	char *end;
	long n;

	if (g)
		return g->gr_gid;
	errno = 0;
	n = strtol(s, &end, 10);
	return errno || *end || end == s || n < 0 || n > INT_MAX ? -1 : (int)n;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static void parse_args(struct vm_config *cfg, int argc, char **argv)
{
	static char state_dir[PATH_MAX];
	enum { OPT_KERNEL = 256, OPT_INITRD, OPT_APPEND, OPT_MEMORY, OPT_CPUS, OPT_DISK,
	       OPT_DISK_AIO, OPT_NET, OPT_RNG, OPT_VCONSOLE, OPT_CONSOLE, OPT_CONTROL,
	       OPT_CONTROL_GROUP,
	       OPT_STATE_DIR, OPT_MEMPATH, OPT_MEM_PREALLOC, OPT_INCOMING, OPT_INCOMING_URI, OPT_PAUSED,
	       OPT_INCOMING_TIMEOUT, OPT_NO_REBOOT, OPT_SANDBOX, OPT_TLS_CREDS, OPT_TLS_PSK,
	       OPT_LIST_COMMANDS, OPT_HELP, OPT_VERSION };
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "disk-aio", required_argument, NULL, OPT_DISK_AIO },
		{ "net", required_argument, NULL, OPT_NET },
		{ "rng", no_argument, NULL, OPT_RNG },
		{ "vconsole", required_argument, NULL, OPT_VCONSOLE },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "control-group", required_argument, NULL, OPT_CONTROL_GROUP },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "mem-path", required_argument, NULL, OPT_MEMPATH },
		{ "mem-prealloc", no_argument, NULL, OPT_MEM_PREALLOC },
		{ "incoming", required_argument, NULL, OPT_INCOMING },
		{ "incoming-migration", required_argument, NULL, OPT_INCOMING_URI },
		{ "paused", no_argument, NULL, OPT_PAUSED },
		{ "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
		{ "sandbox", required_argument, NULL, OPT_SANDBOX },
		{ "incoming-timeout", required_argument, NULL, OPT_INCOMING_TIMEOUT },
		{ "tls-creds", required_argument, NULL, OPT_TLS_CREDS },
		{ "tls-psk", required_argument, NULL, OPT_TLS_PSK },
		{ "list-commands", no_argument, NULL, OPT_LIST_COMMANDS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 }
	};
	const char *tls_creds = NULL, *tls_psk = NULL;
	const struct option *o;
	char why[256], *end;
	long n;
	int c;

	*cfg = (struct vm_config){ .ram_size = 512ULL << 20, .nr_cpus = 1, .control_gid = -1,
				     .incoming_timeout_ms = -1 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL: cfg->kernel = optarg; break;
		case OPT_INITRD: cfg->initrd = optarg; break;
		case OPT_APPEND: cfg->append = optarg; break;
		case OPT_MEMORY:
			if (parse_size(optarg, &cfg->ram_size) ||
			    cfg->ram_size < (64ULL << 20) || cfg->ram_size % 4096 ||
			    cfg->ram_size > (64ULL << 30))
				die("--memory %s: want a size from 64M to 64G, e.g. 512M or 1G", optarg);
			break;
		case OPT_CPUS:
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > VM_MAX_CPUS)
				die("--cpus %s: want a number from 1 to %d", optarg, VM_MAX_CPUS);
			cfg->nr_cpus = n;
			break;
		case OPT_DISK: cfg->disk = optarg; break;
		case OPT_DISK_AIO:
			if (strcmp(optarg, "io_uring") && strcmp(optarg, "threads"))
				die("--disk-aio %s: want io_uring or threads", optarg);
			cfg->disk_threads = !strcmp(optarg, "threads");
			break;
		case OPT_NET:
			if (parse_net(optarg, cfg))
				die("--net %s: want tap=IFNAME[,mac=52:54:00:12:34:56][,vhost=on|off] (a tap name of"
				    " at most 15 bytes, a unicast MAC other than zero)", optarg);
			break;
		case OPT_RNG: cfg->rng = true; break;
		case OPT_CONTROL_GROUP:
			cfg->control_gid = parse_group(optarg);
			if (cfg->control_gid < 0)
				die("--control-group %s: no such group", optarg);
			break;
		case OPT_STATE_DIR:
			if (!realpath(optarg, state_dir) || !is_dir(state_dir))
				die("--state-dir %s: not a directory", optarg);
			cfg->state_dir = state_dir;
			break;
		case OPT_VCONSOLE: cfg->vconsole = optarg; break;
		case OPT_CONSOLE:
			if (strcmp(optarg, "stdio") && strncmp(optarg, "file:", 5) &&
			    strncmp(optarg, "unix:", 5))
				die("--console %s: want stdio, file:PATH or unix:PATH", optarg);
			cfg->console = optarg;
			break;
		case OPT_CONTROL: cfg->control = optarg; break;
		case OPT_MEMPATH: cfg->mem_path = optarg; break;
		case OPT_MEM_PREALLOC: cfg->mem_prealloc = true; break;
		case OPT_INCOMING:
			if (strncmp(optarg, "tcp:", 4) && strncmp(optarg, "unix:", 5)) {
				cfg->incoming = optarg;
				break;
			}
			/* fall through: a URI is a live migration */
		case OPT_INCOMING_URI:
			if (strncmp(optarg, "tcp:", 4) && strncmp(optarg, "unix:", 5))
				die("--incoming-migration %s: want tcp:HOST:PORT or unix:PATH", optarg);
			cfg->incoming_uri = optarg;
			break;
		case OPT_PAUSED: cfg->paused = true; break;
		case OPT_NO_REBOOT: cfg->no_reboot = true; break;
		case OPT_SANDBOX:
			if (!strcmp(optarg, "off"))
				sandbox__disable();
			else if (strcmp(optarg, "on"))
				die("--sandbox %s: want on or off", optarg);
			break;
		case OPT_INCOMING_TIMEOUT:
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 0 || n > 86400000)
				die("--incoming-timeout %s: want milliseconds from 0 (for ever) to 86400000",
				    optarg);
			cfg->incoming_timeout_ms = n;
			break;
		case OPT_TLS_CREDS: tls_creds = optarg; break;
		case OPT_TLS_PSK: tls_psk = optarg; break;
		case OPT_LIST_COMMANDS:
			list_commands();
			exit(0);
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			version__print("ternvm");
			exit(0);
		default:
			/*
			 * optopt is a long option's value when its argument
			 * is missing, the letter of an unknown single-dash
			 * option (there are none), or 0 for an unknown long
			 * one; argv[optind - 1] is not the culprit for "-xyz".
			 */
			for (o = opts; o->name; o++)
				if (o->val == optopt)
					die("option --%s needs an argument (see --help)",
					    o->name);
			if (optopt)
				die("unknown option -%c (see --help)", optopt);
			die("unknown option %s (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	if (!cfg->kernel && !cfg->incoming && !cfg->incoming_uri)
		die("no --kernel given (see --help)");
	if (cfg->incoming && cfg->incoming_uri)
		die("--incoming and --incoming-migration exclude each other");
	if (cfg->incoming_timeout_ms >= 0 && !cfg->incoming_uri)
		die("--incoming-timeout needs --incoming URI (a live migration)");
	if (cfg->paused && !cfg->incoming_uri)
		die("--paused needs --incoming URI (a live migration)");
	if (cfg->incoming && !cfg->mem_path)
		die("--incoming needs --mem-path: the saved state has no RAM");
	if (cfg->kernel && access(cfg->kernel, R_OK))
		die("--kernel %s: %s", cfg->kernel, strerror(errno));
	/* Every file check before kvm__init: the same errors without KVM. */
	if (cfg->kernel && !cfg->incoming && !cfg->incoming_uri &&
	    boot__check_kernel(cfg->kernel))
		exit(1);
	if (cfg->initrd && access(cfg->initrd, R_OK))
		die("--initrd %s: %s", cfg->initrd, strerror(errno));
	if (cfg->disk && access(cfg->disk, R_OK | W_OK))
		die("--disk %s: %s", cfg->disk, strerror(errno));
	if (tls_creds && tls_psk)
		die("--tls-creds and --tls-psk exclude each other");
	if ((tls_creds || tls_psk) && cfg->incoming_uri &&
	    strncmp(cfg->incoming_uri, "tcp:", 4))
		die("--%s: kernel TLS runs on TCP only: want --incoming tcp:HOST:PORT",
		    tls_creds ? "tls-creds" : "tls-psk");
	if (tls_creds || tls_psk) {
		cfg->tls = mig__tls_load(tls_creds, tls_psk, why, sizeof(why));
		if (!cfg->tls)
			die("--%s: %s", tls_creds ? "tls-creds" : "tls-psk", why);
	}
}

/* Running: end the VM in order.  Building or unwinding: just go. */
static void on_signal(int sig)
{
	if (!vm_running)
		_exit(1);
	vm__signal_quit(signal_vm);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	enum vm_exit_reason reason;
	struct vm_config cfg;
	struct vm *vm;

	log__init("ternvm");
	parse_args(&cfg, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rcu_register_thread();

	vm = vm__create(&cfg);
	if (!vm) {
		pr_err("cannot create the VM: %s", strerror(errno));
		rcu_unregister_thread();
		return 1;
	}
	signal_vm = vm;
	vm_running = 1;
	reason = vm__run(vm);
	vm_running = 0;
	vm__destroy(vm);
	rcu_unregister_thread();
	pr_info("VM ended: %s", vm__exit_name(reason));
	return vm__exit_status(reason);
}
