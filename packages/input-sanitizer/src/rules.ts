import { KINDS, type Kind, type ParanoiaLevel } from "./options.js";
import { expandVariables, globSystemPath } from "./shell.js";

export interface RuleHit {
  kind: Kind;
  rule: string;
  paranoiaLevel: ParanoiaLevel;
  index: number;
  length: number;
}

/** Where a string sat: keys, header values and paths get extra rules. */
export type Location = "value" | "key" | "header" | "path";

// ---------------------------------------------------------------- command injection

// Programs whose names are not English words: a separator and the name is enough.
const TECH_COMMANDS =
  "whoami|sysinfo|uname|ifconfig|ipconfig|netstat|wget|curl|ncat|netcat|nc|bash|zsh|ksh|csh|tcsh|sh|powershell|pwsh|cmd|cmd\\.exe|python[23]?(?:\\.\\d{1,2}|)|nslookup|systeminfo|lastlog|getent|hostname|chmod|chown|chgrp|passwd|tftp|telnet|ssh|scp|base64|xterm|nohup|sudo|awk|gawk|sed|grep|egrep|fgrep|pwd|printenv|uptime|mkdir|rmdir|xxd|hexdump|tar|gzip|bzip2|crontab|useradd|usermod|userdel|tasklist|taskkill|wmic|certutil|bitsadmin|mshta|rundll32|regsvr32|cscript|wscript|vssadmin|schtasks|netsh|killall|pkill|traceroute|tracert|iptables|nmap|socat|openssl|gcc\\d{0,2}(?:\\.\\d|)|javac|jrunscript|tclsh|xargs|whereis|readlink|lsof|dmesg|sysctl|modprobe|busybox|apt-get|yum|dpkg|rpm|systemctl|journalctl|aa-disable|aa-exec|ifup|ifdown|mkfifo|mknod|chattr|lsattr|strace|ltrace|gdb|tcpdump|ngrep|msfconsole|msfvenom|net\\.exe|reg\\.exe|sc\\.exe|diskpart|bcdedit|icacls|cacls|attrib|takeown|runas|wevtutil|fsutil|forfiles|findstr|getfacl|setfacl|ulimit|shopt|unalias|typeset|tmux|nproc|lscpu|lsblk|blkid|fdisk|umount|useradd|visudo|ssh-keygen|scp|sftp|smbclient|rpcclient|ldapsearch|psql|sqlite3|redis-cli|kubectl|vim|nano|emacs|md5sum|sha1sum|sha256sum|uuencode|xxd|unzip|7z|rar|unrar|ansible|ansible-[a-z]{2,12}|chef-[a-z]{2,10}|chef|cscli|flock|cpulimit|base32|base58|comm|rmt|rmt-[a-z]{2,6}|trap|lastlogin|aptitude|htop|regedit|bcdboot|c89|c99|irb|pry|jshell|scala|groovy|php-cgi|php-fpm|phar|composer|rake|cargo|rustc|deno|bun|yarn|pnpm|npx|lldb|radare2|r2|objdump|readelf|nm|ldd|valgrind|setarch|taskset|ionice|chroot|unshare|nsenter|capsh|setcap|getcap|runuser|pkexec|doas|su|sudoedit|anacron|systemd-run|initctl|update-rc.d|chkconfig|insmod|rmmod|lsmod|kmod|depmod|ip6tables|nft|ufw|firewall-cmd|tshark|wireshark|ettercap|arping|hping3|fping|mtr|nping|whois|curlie|httpie|aria2c|axel|lftp|ncftp|tnftp|sshpass|autossh|plink|putty|pscp|psftp|mosh|stunnel|proxychains|torify|openvpn|wg|iptables-save|iptables-restore|xfreerdp|rdesktop|gunzip|zcat|zstd|zstdcat|bzcat|xzcat|unxz|lz4|lz4cat|bsdtar|bsdcpio|uconv|smbmap|crackmapexec|impacket-[a-z]{2,20}|mimikatz|bloodhound|responder|hashcat|hydra|medusa|sqlmap|nikto|dirb|wfuzz|gobuster|searchsploit|setoolkit|certbot|keytool|jarsigner|gpg|gpg2|ssh-keyscan|ssh-add|ssh-agent|ssh-copy-id|sftp-server|rsync|rclone|s3cmd|aws|gcloud|gsutil|helm|docker-compose|podman|buildah|ctr|crictl|lxc|lxd|virsh|qemu-[a-z0-9_-]{2,20}|vagrant|terraform|packer|consul|nomad|etcdctl|zkcli|mysqldump|pg_dump|pg_dumpall|pg_restore|mongodump|mongorestore|mongosh|redis-server|memcached|sqlcmd|osql|isql|bcp|certreq|cmdkey|dnscmd|esentutl|extrac32|ftp.exe|gpscript|ie4uinit|installutil|makecab|msbuild|msconfig|msdt|msiexec|odbcconf|pcalua|pcwrun|pktmon|presentationhost|psexec|psexec64|rasautou|regasm|regedt32|register-cimprovider|regsvcs|rpcping|runonce|sc.exe|scriptrunner|syncappvpublishingserver|tttracer|verclsid|wlrmdr|wsl|wslconfig|wsreset|xwizard|iex|iwr|iwmi|irm|invoke-[a-z]{3,20}|get-wmiobject|start-process|set-mppreference|add-mppreference|new-object|lastb|faillog|chpasswd|newusers|adduser|deluser|addgroup|gpasswd|pwck|grpck|sestatus|setenforce|getenforce|auditctl|aureport|ausearch|tune2fs|debugfs|e2fsck|mkfs|mkswap|swapon|swapoff|losetup|cryptsetup|dmsetup|lvm|pvcreate|vgcreate|lvcreate|zfs|zpool|btrfs|xfs_[a-z]{2,10}|fsck|partprobe|parted|sfdisk|gdisk|hdparm|smartctl|dmidecode|lshw|lspci|lsusb|inxi|neofetch|screenfetch|busctl|dbus-send|gsettings|xdotool|xclip|xsel|xinput|xrandr|xset|xhost|startx|xinit|vncviewer|vncserver|x11vnc|tigervnc|remmina";
// English words that are also programs: they need an argument that looks like one.
const WORD_COMMANDS =
  "cat|find|sort|head|tail|echo|printf|sleep|ping|kill|type|set|export|alias|history|cut|tee|touch|free|top|who|last|finger|users|groups|which|file|host|dir|make|ln|ip|net|reg|sc|dd|cc|mv|cp|copy|move|del|erase|start|call|shutdown|reboot|halt|locate|stat|time|date|diff|uniq|tr|du|df|ss|su|w|at|for|if|rename|replace|print|open|read|wait|yes|test|true|false|logout|exit|chdir|cd|pushd|popd|title|color|path|more|dash|perl|ruby|php|node|ls|id|ps|env|rm|lua|perf|ver|vol|tree|arp|dig|unset|declare|exec|eval|source|timeout|watch|screen|mount|rsync|ftp|mysql|mongo|docker|vi|ed|less|od|strings|tac|nl|wc|pico|zip|expect|pip|npm|gem|expand|go|service|bundle|vault|nice|xargs|strace|nohup|sudo|command|builtin|goto|md|mkdir|rd|ren|attrib|cls|assoc|ftype|prompt|pip2|pip3|pipx|ll";

// Optional path prefix (/bin/, /usr/bin/, C:\Windows\System32\).
const PREFIX = "(?:[/\\\\][\\w./\\\\-]{0,80}[/\\\\]|)";
const COMMAND_AT_START = new RegExp(
  `^\\s{0,16}${PREFIX}(?:${TECH_COMMANDS}|${WORD_COMMANDS})\\s{1,16}(?:-{1,2}[a-z]|\\/\\s{0,4}[;|&]|/[a-z]|[.~]{1,2}/|\\$[a-z{(]|%[a-z]|[a-z]:\\\\|https?://|\\d{1,6}\\s{0,4}$|(?:${TECH_COMMANDS})\\s{0,4}$)`,
  "i",
);
// Windows administration verbs: `net user x /add`, `reg add HKLM\...`, `sc stop x`.
const WINDOWS_VERB =
  /(?:^|[;|&`]\s{0,16})(?:net(?:\.exe)?\s{1,16}(?:user|localgroup|group|view|share|use|start|stop|session|accounts|config)\b|reg(?:\.exe)?\s{1,16}(?:add|query|delete|save|export|import)\s{1,16}\S|sc(?:\.exe)?\s{1,16}(?:query|stop|start|create|config|delete)\s{1,16}\S|netsh\s{1,16}(?:firewall|advfirewall|interface|wlan|http)\b)/i;
const TECH_AT_START = new RegExp(`^\\s{0,16}${PREFIX}(?:${TECH_COMMANDS})(?:$|\\s{1,16}\\S)`, "i");
const SHELLSHOCK = /^\s{0,16}\(\s{0,16}\)\s{0,16}\{|(?:^|[;\s])[\w.:]{1,20}\s{0,4}\(\s{0,4}\)\s{0,4}\{[^}]{0,100}[|&]/;
// sqlite3's dot commands after a break: `;\n.shell nc ...`.
const DOT_COMMAND = /(?:^|[;\n])\s{0,16}\.\s{0,4}["'\\]{0,4}(?:shell|system|databases|import|output|read|load)\b/i;
const SSI = /<!--\s{0,16}#\s{0,16}(?:exec|include|echo|config|printenv|fsize|flastmod)\b/i;
const WINDOWS_SHELL =
  /(?:%(?:comspec|systemroot|windir|programfiles|userprofile|temp|appdata)%|\bcmd(?:\.exe)?\s{1,16}\/[ck]\b|\bpowershell(?:\.exe)?\s{1,16}-[a-z]|\bfor\s{1,16}\/[fdrl]\b|\bif\s{1,16}(?:\/i\s|)\s{0,16}(?:not\s|)\s{0,16}(?:exist|defined|errorlevel)\b|\bstart\s{1,16}\/b\b)/i;
const CODE_EXEC_CALL =
  /\b(?:system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec|spawn|spawnSync|execSync|execFile|os\.system|os\.popen|subprocess\.(?:call|run|Popen|check_output))\s{0,16}\(\s{0,16}["'`$@]/i;
const UNIX_PATH_EXEC = /(?:^|[\s;|&`(])\/(?:bin|usr\/bin|usr\/local\/bin|sbin|usr\/sbin)\/[a-z]{2,20}\b/;
// Expansions that are empty at run time: `c$@at`, `pi$()ng`, `pi``ng`, positional `c$1at`.
const EMPTY_EXPANSION = /\$[@!*?_$#1-9-]|\$\(\)|``|[<>]\(\)/g;
// Terminal control sequences (`ESC[2A` moves the cursor up to hide what was typed).
const ANSI_ESCAPE = /\u001b\[[0-9;]{0,16}[A-Za-z]?|\u001b/g;
// Characters that start an argument, so a `+` before them stands for a space: `cat+/etc`, `ls+-la`.
const ARGUMENT_START = new Set(["-", "/", "~", "'", '"', "$", "\\"]);
// Word-like programs whose arguments are commonly numbers or names: `sleep+10`, `ping+host`.
const PLUS_PROGRAMS = new Set([
  "sleep",
  "ping",
  "cat",
  "echo",
  "ls",
  "kill",
  "rm",
  "cp",
  "mv",
  "head",
  "tail",
  "dig",
  "host",
  "printf",
  "timeout",
  "nc",
]);

/** Whether the letters right before `end` are a program name: `sleep+10`, `ping+-c`. */
function programBefore(text: string, end: number): boolean {
  let start = end;
  while (start > 0 && end - start < 24 && /[a-z0-9_-]/i.test(text[start - 1]!)) start--;
  if (start > 0 && !/[\s;|&`(=]/.test(text[start - 1]!)) return false;
  const word = text.slice(start, end).toLowerCase();
  return PLUS_PROGRAMS.has(word) || isTech(word);
}

/**
 * A `+` read as the space it encodes in form data left undecoded: after a separator, before an
 * argument or after a program name. Only the first 4 KiB: a command line is short, and a long
 * run of `+` must not cost a slice each.
 */
function plusToBlank(text: string): string {
  const parts: string[] = [];
  let last = 0;
  for (let i = text.indexOf("+"); i >= 0 && i < 4096; i = text.indexOf("+", i + 1)) {
    const before = text[i - 1];
    if (
      before === ";" ||
      before === "|" ||
      before === "&" ||
      ARGUMENT_START.has(text[i + 1] ?? "") ||
      programBefore(text, i)
    ) {
      parts.push(text.slice(last, i));
      last = i + 1;
    }
  }
  parts.push(text.slice(last));
  return parts.join(" ");
}
const QUOTE_IN_WORD = /([a-zA-Z/])(?:''|""|\\|'(?=[a-zA-Z])|"(?=[a-zA-Z]))/g;
const BRACE_LIST = /\{([\w./-]{1,40}),([^{}]{0,200})\}/g;
// Brace expansion inside a word: `c{a,oun}t` -> "cat count", `{,ifconfig}` -> "ifconfig".
const BRACE_WORD = /([\w./-]{0,40})\{([\w./?*#-]{0,40},[\w./?*#,-]{0,200})\}([\w./-]{0,40})/g;
// Both brace patterns need "{", up to 40 list characters and a comma.
const BRACE_START = /\{[\w./?*#-]{0,40},/;
// Shell globs standing in for letters: `/etc/pas[s]wd`, `/bi[n]/bash`, `/[e//]tc`.
// Negated classes and ranges (`[!q]`, `[m-z]`) are left to the glob-path rule.
const GLOB_CLASS = /\[([a-z])[^\]!^-]{0,20}\]/gi;
const SHELL_EXPANSION =
  /[<>]\(\s{0,16}[a-z]{2,20}[\s)]|\$\[|\$\(\(|\$\{[\w!#]{1,40}[#%:/^,~@]|(?:^|[\s;|&])\$\{?[A-Z_]{2,20}\}?\s{1,16}-[a-z]|\w<<<|\/dev\/(?:tcp|udp)\/|^\s{0,16}alias\s{1,16}(?:[-+][\w+-]{1,8}\s{1,16}|)(?:[-+][\w+-]{1,8}\s{1,16}|)[^=\s]{1,40}=/i;
// `\ls`: a backslash skips shell aliases.
const ESCAPED_COMMAND = new RegExp(`^\\s{0,16}\\\\(?:${TECH_COMMANDS}|${WORD_COMMANDS})(?=$|\\s)`, "i");
const BATCH =
  /(?:^|[&|;]\s{0,16})(?:@\s{0,4}|)(?:if(?:\s{0,16}\/i|)\s{1,16}(?:not\s{1,16}|)(?:(?:"[^"]{0,60}"|\S{1,60})\s{0,16}(?:===?|\s(?:equ|neq|lss|leq|gtr|geq)\s)|\(|cmdextversion\b)|for\s{1,16}(?:\/[dlrf]\s{1,16}|)%%?~?[\w@/~[\]-]{1,20}\s{1,16}in\s{0,16}\()/i;
const POWERSHELL =
  /\b(?:invoke-(?:webrequest|expression|wmimethod|restmethod|command|item)|start-process|new-object\s{1,16}(?:system\.|)net\.webclient|downloadstring|downloadfile|frombase64string)\b|(?:^|[;|&(])\s{0,16}(?:iex|iwr|iwmi|irm)\b/i;
const WRAPPED_COMMAND = new RegExp(
  `^\\s{0,16}(?:time|strace|ltrace|nohup|timeout|nice|env|sudo|xargs|exec|command|builtin|watch|doas|unbuffer|stdbuf|setsid|chroot|flock|cpulimit)(?:\\s{1,16}-{1,2}[\\w=.-]{1,20}|\\s{1,16}\\d{1,6}|\\s{1,16}/|)\\s{1,16}(?:${TECH_COMMANDS})(?=$|[\\s<>|;&\`)'"])`,
  "i",
);

// `sh -c`, `bash -c`: a shell asked to run the next argument.
const SHELL_DASH_C = /\b(?:ba|da|z|k|c|tc|fi|)sh\s{1,16}-c\b/i;
// Directory-stack and history expansions standing alone: `~+`, `~-1`, `!-2`.
const TILDE_OR_HISTORY = /^\s{0,16}~[+-]\d{0,3}\s{0,16}$|(?:^|[;|&])!-\d{1,3}(?=$|[\s;|&!])/;
// Package managers installing something: `pip install x`, `sudo apt-get install x`.
const PACKAGE_INSTALL =
  /^\s{0,16}(?:sudo\s{1,16}|)(?:pip[23x]?|pip3\.\d{1,2}|npm|pnpm|gem|apt-get|apt|yum|dnf|apk|easy_install|composer)\s{1,16}(?:install|add)\s{1,16}[\w@./:-]/i;
// A program under a relative bin directory: `bin/visudo`, `usr/bin/id`.
const RELATIVE_BIN = /(?:^|[\s;|&`(=])(?:usr\/(?:local\/|)|)s?bin\/([\w.-]{1,30})/g;
// Lookup wrappers and prefixes naming a program with nothing after: `which perl`, `time who`.
const WRAPPER_PROGRAM =
  /^\s{0,16}(?:which|whereis|type|time|nohup|strace|ltrace|sudo|doas|exec|command)\s{1,16}(?:perl|ruby|php|python[23]?|node|lua|who|id|ls|ps|sh|bash|nc|env)\s{0,16}$/i;
// Program families whose hyphenated names are not words: `ansible-playbook x.yml`, `chef-shell`.
const TOOL_FAMILY = /^(?:ansible|chef|impacket|qemu|invoke)-/;
// Program names that are also everyday words ("curl; no gel"): not a command just for a separator.
const PROSE_TECH = new Set([
  "curl",
  "chef",
  "trap",
  "tar",
  "bun",
  "cargo",
  "helm",
  "hydra",
  "medusa",
  "consul",
  "nomad",
  "putty",
  "packer",
  "responder",
  "scala",
  "pry",
  "rake",
  "comm",
  "nano",
  "su",
  "at",
]);
const PAIR_START = /(?:^|[?&;])[\w.[\]-]{1,40}=/g;

/**
 * Shell word expansion, bounded: terminal escapes dropped, `+` read as a space in a string
 * without blanks (form encoding left undone), empty expansions (`c$@at`), variables (`a=nc;$a`,
 * `${IFS}`, unset `$x`), quote removal (`c''at`, `c\at`, `w"h"o"am"i`), glob classes
 * (`/etc/pas[s]wd`) and brace expansion (`{cat,/etc/passwd}`, `c{a,oun}t`).
 */
export function shellNormalize(text: string): string {
  let out = text;
  if (out.includes("\u001b")) out = out.replace(ANSI_ESCAPE, "");
  if (out.includes("+") && !/\s/.test(out)) out = plusToBlank(out);
  if (!/['"\\$[`<>]|\{[^{}]{0,40},/.test(out)) return out;
  // Each step runs only when a character its pattern needs is present (no step adds one a
  // later step needs): long inputs with one kind of punctuation stay cheap.
  if (out.includes("$") || out.includes("`") || out.includes("()")) out = out.replace(EMPTY_EXPANSION, "");
  out = expandVariables(out);
  if (out.includes("'") || out.includes('"') || out.includes("\\")) out = out.replace(QUOTE_IN_WORD, "$1");
  if (out.includes("[")) out = out.replace(GLOB_CLASS, "$1");
  if (!BRACE_START.test(out)) return out;
  return out
    .replace(BRACE_WORD, (_m, pre: string, list: string, post: string) =>
      list
        .split(",")
        .filter((item) => item !== "")
        .map((item) => `${pre}${item}${post}`)
        .join(" "),
    )
    .replace(BRACE_LIST, (_m, a: string, b: string) => `${a} ${b.replace(/,/g, " ")}`);
}

const FLAG_ARGUMENT = /^(?:-{1,2}[a-z]|\/[a-z]|[.~]{1,2}\/|https?:\/\/|[a-z]:\\)/i;

/** A program at the start, with a flag, path or URL among its first arguments: `ansible all -m ping`. */
function commandLine(text: string): boolean {
  const words = text
    .trimStart()
    .slice(0, 200)
    .split(/\s{1,16}/, 6);
  return words.length > 1 && TECH_AT_START.test(text) && words.slice(1).some((w) => FLAG_ARGUMENT.test(w));
}

// Word lookups instead of one regex alternation per position: linear on any input.
const TECH_WORDS = new Set(TECH_COMMANDS.split("|").filter((w) => /^[a-z0-9_-]+$/.test(w)));
const TECH_PATTERN =
  /^(?:python[23]?(?:\.\d{1,2}|)|gcc\d{0,2}(?:\.\d|)|ansible-[a-z]{2,12}|chef-[a-z]{2,10}|rmt-[a-z]{2,6}|impacket-[a-z]{2,20}|qemu-[a-z0-9_-]{2,20}|invoke-[a-z]{3,20}|xfs_[a-z]{2,10}|(?:cmd|net|reg|sc|ftp)\.exe|update-rc\.d)$/;
const WORD_WORDS = new Set(WORD_COMMANDS.split("|"));
// Every TECH_PATTERN name starts with "python" or "gcc" or has a "-", "_" or ".".
const isTech = (word: string) =>
  TECH_WORDS.has(word) ||
  ((word.includes("-") ||
    word.includes("_") ||
    word.includes(".") ||
    word.startsWith("python") ||
    word.startsWith("gcc")) &&
    TECH_PATTERN.test(word));
const isProgramName = (word: string) => isTech(word) || WORD_WORDS.has(word);
const AFTER_TECH = /^(?:$|[\s<>|;&`)'"$,}])/;
const WORD_ARGUMENT =
  /^(?:\s{0,16}[<>|;`$]|\s{1,16}(?:-{1,2}[a-z0-9]|\/[a-z]|\/\s{0,4}(?:[;|&]|$)|[.~]{1,2}\/|\d|['"`]|\\\\|[a-z]:\\|%[a-z]|\$|[\w-]{1,40}\.(?:txt|sh|bash|php|py|pl|rb|log|conf|cfg|ini|bak|sql|db|exe|bat|ps1|key|pem)\b))/i;
// Programs that are a whole command without arguments, but not a word of prose on their own line.
const BARE_PROGRAMS = new Set(["id", "dir", "ls", "ps", "env", "who", "ver", "vol", "arp", "pwd", "set"]);
// Nothing but blanks up to the next separator or the end: `;id`, `a|id\n`.
const BLANK_REST = /^[ \t]{0,16}(?:[;|&\r\n]|$)/;
// A program name, read in place at the separator (sticky) rather than from a copy.
const PROGRAM_TOKEN_AT = /[\w./\\:-]{1,100}/y;
const MAX_SEPARATORS = 512;

/**
 * A separator (`;`, `|`, `&`, line break, backtick, `$(`, `${`) or a closing quote followed by a
 * program name. Programs that are also English words need an argument that looks like one.
 */
function scanSeparators(text: string, hits: RuleHit[]): void {
  let seen = 0;
  let found: Set<string> | undefined;
  const firstText = text.search(/\S/);
  for (let i = 0; i < text.length && seen < MAX_SEPARATORS; i++) {
    const code = text.charCodeAt(i);
    // Only ; | & line breaks ` $ ' " ! start anything below.
    if (
      code !== 33 &&
      code !== 59 &&
      code !== 124 &&
      code !== 38 &&
      code !== 10 &&
      code !== 13 &&
      code !== 96 &&
      code !== 36 &&
      code !== 39 &&
      code !== 34
    )
      continue;
    const c = text[i]!;
    let kind: "separator" | "substitution" | "quote" | "bang";
    let start = i + 1;
    if (c === ";" || c === "|" || c === "&" || c === "\n" || c === "\r") kind = "separator";
    else if (c === "`") kind = "substitution";
    else if (c === "$" && (text[i + 1] === "(" || text[i + 1] === "{")) {
      kind = "substitution";
      start = i + 2;
    } else if (c === "'" || c === '"') kind = "quote";
    // vi and ex run `!cmd` in a shell: `;ex -c:\!pwd`.
    else if (c === "!" && (i === 0 || /[\s\\:;|&]/.test(text[i - 1]!))) kind = "bang";
    else continue;
    seen++;
    while (text[start] === c && (c === "|" || c === "&")) start++;
    let j = start;
    while (
      j < text.length &&
      j - start < 16 &&
      (text[j] === " " || text[j] === "\t" || text[j] === "\n" || text[j] === "\r")
    )
      j++;
    // `. file` sources a script: `;. rm -rf /` runs what follows the dot.
    if (kind === "separator" && text[j] === "." && (text[j + 1] === " " || text[j + 1] === "\t")) {
      j += 2;
      while (j < text.length && j - start < 32 && (text[j] === " " || text[j] === "\t")) j++;
    }
    PROGRAM_TOKEN_AT.lastIndex = j;
    const token = PROGRAM_TOKEN_AT.exec(text)?.[0];
    if (!token) continue;
    const word = token.slice(Math.max(token.lastIndexOf("/"), token.lastIndexOf("\\")) + 1).toLowerCase();
    if (!word) continue;
    const tech = isTech(word);
    // Only programs can make a rule fire below (and after a quote only technical ones).
    if (!tech && (kind === "quote" || !WORD_WORDS.has(word))) continue;
    const rest = text.slice(j + token.length, j + token.length + 40);
    let rule: string | undefined;
    if (kind === "quote") rule = tech && AFTER_TECH.test(rest) ? "cmd.quote-command" : undefined;
    else if (kind === "bang") rule = tech && j === start && AFTER_TECH.test(rest) ? "cmd.separator-command" : undefined;
    else if (tech && AFTER_TECH.test(rest))
      rule = kind === "substitution" ? "cmd.substitution" : "cmd.separator-command";
    else if (WORD_WORDS.has(word)) {
      if (kind === "substitution" && AFTER_TECH.test(rest)) rule = "cmd.substitution";
      else if (WORD_ARGUMENT.test(rest)) rule = "cmd.separator-command";
      else if (rest === "" && j === start) rule = "cmd.separator-command";
      // A program that reads as a command alone, right after the separator or a leading one: `;id\n`, `| dir`.
      else if (BARE_PROGRAMS.has(word) && BLANK_REST.test(rest) && (j === start || firstText >= i))
        rule = "cmd.separator-command";
    }
    if (rule && !found?.has(rule)) {
      found ??= new Set();
      found.add(rule);
      hits.push({ kind: "command-injection", rule, paranoiaLevel: 1, index: i, length: j + token.length - i });
    }
  }
}

/** Adds a hit for a regex match, if there is one. */
function addMatch(hits: RuleHit[], kind: Kind, rule: string, level: ParanoiaLevel, m: RegExpExecArray | null): void {
  if (m) hits.push({ kind, rule, paranoiaLevel: level, index: m.index, length: m[0].length });
}

// Words that can open a command line for the start-anchored regexes besides the program names:
// wrappers (WRAPPED_COMMAND, WRAPPER_PROGRAM) and package managers (PACKAGE_INSTALL).
const START_WORDS = new Set([
  "time",
  "strace",
  "ltrace",
  "nohup",
  "timeout",
  "nice",
  "env",
  "sudo",
  "xargs",
  "exec",
  "command",
  "builtin",
  "watch",
  "doas",
  "unbuffer",
  "stdbuf",
  "setsid",
  "chroot",
  "flock",
  "cpulimit",
  "which",
  "whereis",
  "type",
  "pip",
  "pip2",
  "pip3",
  "pipx",
  "npm",
  "pnpm",
  "gem",
  "apt-get",
  "apt",
  "yum",
  "dnf",
  "apk",
  "easy_install",
  "composer",
]);
// Program alternatives with an unescaped "." (any character but a line break): the name as a
// whole word, or its part before the "." when that character ended the word.
const WILDCARD_PROGRAM = /^(?:(?:ftp|sc).exe|update-rc.d|update-rc)$/;

/**
 * Whether the text may start (after blanks) with a program for the start-anchored command regexes
 * (COMMAND_AT_START, TECH_AT_START, ESCAPED_COMMAND, WRAPPED_COMMAND, WRAPPER_PROGRAM,
 * PACKAGE_INSTALL). Each needs, after at most 16 blanks, a path prefix or backslash (`/` or `\`
 * first) or one of its words followed by a blank or the end; their words are made of letters,
 * digits, `_`, `.` and `-`, so that word is the whole run of those characters at the start.
 */
export function mayStartWithProgram(text: string): boolean {
  let i = 0;
  while (i < text.length && i <= 16 && isBlank(text.charCodeAt(i))) i++;
  if (i > 16 || i >= text.length) return false;
  const c = text.charCodeAt(i);
  if (c === 47 || c === 92) return true;
  let j = i;
  while (j < text.length && j - i < 64 && PROGRAM_CHAR[text.charCodeAt(j)] === 1) j++;
  const word = text.slice(i, j).toLowerCase();
  return (
    isProgramName(word) ||
    START_WORDS.has(word) ||
    (word.startsWith("pip3.") && /^pip3\.\d{1,2}$/.test(word)) ||
    ((word.startsWith("ftp") || word.startsWith("sc") || word.startsWith("update-rc")) && WILDCARD_PROGRAM.test(word))
  );
}
const BLANK = /\s/;
const isBlank = (c: number) => (c < 128 ? c === 32 || (c >= 9 && c <= 13) : BLANK.test(String.fromCharCode(c)));
// `\w`, "." and "-" (ASCII): 1.
const PROGRAM_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) PROGRAM_CHAR[c] = /[\w.-]/.test(String.fromCharCode(c)) ? 1 : 0;

// What each command regex cannot match without (every alternative needs one of these);
// prefilter.test.ts checks the pairs on payloads and the corpus.
const COMMAND_GATES = {
  windowsVerb: (lower: string) => lower.includes("net") || lower.includes("reg") || lower.includes("sc"),
  expansion: (lower: string) =>
    lower.includes("$") ||
    lower.includes("<(") ||
    lower.includes(">(") ||
    lower.includes("<<<") ||
    lower.includes("/dev/") ||
    lower.includes("alias"),
  batch: (lower: string) => lower.includes("if") || lower.includes("for"),
  powershell: (lower: string) =>
    lower.includes("invoke-") ||
    lower.includes("start-process") ||
    lower.includes("new-object") ||
    lower.includes("download") ||
    lower.includes("frombase64string") ||
    lower.includes("iex") ||
    lower.includes("iwr") ||
    lower.includes("iwmi") ||
    lower.includes("irm"),
  dotCommand: (lower: string) =>
    lower.includes(".") &&
    (lower.includes("shell") ||
      lower.includes("system") ||
      lower.includes("databases") ||
      lower.includes("import") ||
      lower.includes("output") ||
      lower.includes("read") ||
      lower.includes("load")),
  ssi: (lower: string) => lower.includes("<!--"),
  windowsShell: (lower: string) =>
    lower.includes("%") ||
    lower.includes("powershell") ||
    (lower.includes("/") && (lower.includes("cmd") || lower.includes("for") || lower.includes("start"))) ||
    (lower.includes("if") && (lower.includes("exist") || lower.includes("defined") || lower.includes("errorlevel"))),
  execCall: (lower: string) => lower.includes("("),
  unixPath: (lower: string) => lower.includes("bin/"),
};

// Something every gate above needs (each names one of these words or characters): text without
// any of them skips the gated regexes without a lower-case copy.
const COMMAND_GATE_WORDS =
  /net|reg|sc|\$|<\(|>\(|<<<|\/dev\/|alias|if|for|invoke-|start|new-object|downloadstring|downloadfile|frombase64string|iex|iwr|iwmi|irm|shell|system|databases|import|output|read|load|<!--|%|cmd|exist|defined|errorlevel|\(|bin\//i;

function commandHits(text: string, hits: RuleHit[], level: ParanoiaLevel, obfuscated = false): void {
  scanSeparators(text, hits);
  // Past 4 KiB the gates' own scans cost about what they save: every regex runs, as it would ungated.
  const all = text.length > 4096;
  const gated = !all && COMMAND_GATE_WORDS.test(text);
  const lower = gated ? text.toLowerCase() : "";
  const start = mayStartWithProgram(text);
  if (start) addMatch(hits, "command-injection", "cmd.command-line", 1, COMMAND_AT_START.exec(text));
  const line = start ? TECH_AT_START.exec(text) : null;
  const family = line !== null && TOOL_FAMILY.test(FIRST_WORD.exec(text)?.[1]?.toLowerCase() ?? "");
  addMatch(
    hits,
    "command-injection",
    "cmd.command-line",
    obfuscated || family || (line && commandLine(text)) ? 1 : 2,
    line,
  );
  if (all || (gated && COMMAND_GATES.windowsVerb(lower)))
    addMatch(hits, "command-injection", "cmd.windows", 1, WINDOWS_VERB.exec(text));
  if (all || (gated && COMMAND_GATES.expansion(lower)))
    addMatch(hits, "command-injection", "cmd.expansion", 1, SHELL_EXPANSION.exec(text));
  if (start) addMatch(hits, "command-injection", "cmd.expansion", 1, ESCAPED_COMMAND.exec(text));
  if (all || (gated && COMMAND_GATES.batch(lower)))
    addMatch(hits, "command-injection", "cmd.windows", 1, BATCH.exec(text));
  if (all || (gated && COMMAND_GATES.powershell(lower)))
    addMatch(hits, "command-injection", "cmd.powershell", 1, POWERSHELL.exec(text));
  if (start) addMatch(hits, "command-injection", "cmd.command-line", 1, WRAPPED_COMMAND.exec(text));
  // Both shellshock shapes need "(", ")" and "{".
  addMatch(hits, "command-injection", "cmd.shellshock", 1, text.includes("{") ? SHELLSHOCK.exec(text) : null);
  if (all ? text.includes(".") : gated && COMMAND_GATES.dotCommand(lower))
    addMatch(hits, "command-injection", "cmd.dot-command", 1, DOT_COMMAND.exec(text));
  if (all || (gated && COMMAND_GATES.ssi(lower))) addMatch(hits, "command-injection", "cmd.ssi", 1, SSI.exec(text));
  if (all || (gated && COMMAND_GATES.windowsShell(lower)))
    addMatch(hits, "command-injection", "cmd.windows", 1, WINDOWS_SHELL.exec(text));
  if (all || (gated && COMMAND_GATES.execCall(lower)))
    addMatch(hits, "command-injection", "cmd.exec-call", 1, CODE_EXEC_CALL.exec(text));
  if (all || (gated && COMMAND_GATES.unixPath(lower)))
    addMatch(hits, "command-injection", "cmd.shell-path", 1, UNIX_PATH_EXEC.exec(text));
  addMatch(
    hits,
    "command-injection",
    "cmd.command-line",
    1,
    text.includes("-c") || text.includes("-C") ? SHELL_DASH_C.exec(text) : null,
  );
  if (start) addMatch(hits, "command-injection", "cmd.command-line", 1, WRAPPER_PROGRAM.exec(text));
  // Level 2: developer forums and support desks quote install lines.
  if (level >= 2 && start) addMatch(hits, "command-injection", "cmd.command-line", 2, PACKAGE_INSTALL.exec(text));
  addMatch(
    hits,
    "command-injection",
    "cmd.expansion",
    1,
    text.includes("~") || text.includes("!-") ? TILDE_OR_HISTORY.exec(text) : null,
  );
  const glob = globSystemPath(text, isProgramName);
  if (glob >= 0)
    hits.push({ kind: "command-injection", rule: "cmd.glob-path", paranoiaLevel: 1, index: glob, length: 1 });
  if (text.includes("bin/")) {
    RELATIVE_BIN.lastIndex = 0;
    for (let m = RELATIVE_BIN.exec(text), n = 0; m && n < 16; m = RELATIVE_BIN.exec(text), n++) {
      if (isProgramName(m[1]!.toLowerCase())) {
        addMatch(hits, "command-injection", "cmd.shell-path", 1, m);
        break;
      }
    }
  }
  // A query or form pair whose value is a command line: `?args=env --version`, `code=ansible-console`.
  if (text.includes("=")) {
    PAIR_START.lastIndex = 0;
    for (let m = PAIR_START.exec(text), n = 0; m && n < 16; m = PAIR_START.exec(text), n++) {
      const value = text.slice(m.index + m[0].length, m.index + m[0].length + 300);
      const family = TOOL_FAMILY.test(FIRST_WORD.exec(value)?.[1]?.toLowerCase() ?? "");
      if (COMMAND_AT_START.test(value) || (family && TECH_AT_START.test(value))) {
        addMatch(hits, "command-injection", "cmd.command-line", 1, m);
        break;
      }
    }
  }
  // A program name glued to a separator at the start: `ifconfig;`, `whoami|`.
  const first = FIRST_WORD.exec(text);
  const name = first?.[1]?.toLowerCase() ?? "";
  if (
    first &&
    /^[;|&]/.test(text.slice(first[0].length, first[0].length + 1)) &&
    isTech(name) &&
    !PROSE_TECH.has(name)
  ) {
    hits.push({
      kind: "command-injection",
      rule: "cmd.command-line",
      paranoiaLevel: 1,
      index: 0,
      length: first[0].length,
    });
  }
}

// ---------------------------------------------------------------- path traversal

const SENSITIVE =
  /(?:^|[/\\])(?:etc[/\\](?:passwd|shadow|group|hosts|issue|motd|sudoers|crontab|fstab|profile|bashrc|ssh|mysql|apache2|nginx|httpd)|proc[/\\](?:self|\d+|version|cmdline|environ)|boot\.ini|win\.ini|system\.ini|windows[/\\](?:system32|win\.ini|repair)|winnt[/\\]|system32[/\\]|\.htaccess|\.htpasswd|\.ssh[/\\]|id_[rd]sa|\.bash_history|\.git[/\\](?:config|head)|web-inf[/\\]|web\.config|wp-config\.php|var[/\\](?:log|www|lib|mail|spool)[/\\]|usr[/\\]local[/\\]|inetpub[/\\]|global\.asa|\.env(?:$|[/\\.]))/i;
const ASCII_LETTER = /[a-z]/i;
const PATH_RUN = /[^\s"'<>|=?&;,*()]+/g;
// Backslashes, hex-literal and encoded slashes, and private-use code points (IIS "%uF025")
// all separate path segments for some server.
const SLASH_LIKE = /\\|0x5c|0x2f|%5c|%2f|[\ue000-\uf8ff]/gi;
const PATHISH = /0x5c|0x2f|0x2e|[\ue000-\uf8ff]|\.(?:ht|env|git|ssh|bash)|passwd|\.ini\b|\.asa\b/i;
const ENCODED_PATH = /0x|%5c|%2f|%2e|[\ue000-\uf8ff]/i;
const DOT_LIKE = /0x2e|%2e/gi;

/** Path normalisation: backslashes, hex and private-use slashes to "/", hex dots to ".". */
export function pathNormalize(text: string): string {
  const slashes = text.includes("\\") ? text.replaceAll("\\", "/") : text;
  return ENCODED_PATH.test(slashes) ? slashes.replace(SLASH_LIKE, "/").replace(DOT_LIKE, ".") : slashes;
}

function traversalHits(text: string, hits: RuleHit[]): void {
  // Without a dot (plain or hex/percent-encoded) nothing can climb.
  const norm = text.includes(".") || /0x2e|%2e/i.test(text) ? pathNormalize(text) : "";
  if (norm.includes("..")) {
    PATH_RUN.lastIndex = 0;
    let runs = 0;
    for (let m = PATH_RUN.exec(norm); m && runs < 200; m = PATH_RUN.exec(norm)) {
      runs++;
      const run = m[0];
      if (!run.includes("..")) continue;
      const segments = run.split("/", 4096);
      let depth = 0;
      let lowest = 0;
      let climbs = 0;
      let exact = 0;
      for (let s = 0; s < segments.length && s < 4096; s++) {
        const seg = segments[s]!;
        if (/^\.{2,}[;:%]?$/.test(seg)) {
          if (seg.startsWith("..") && !seg.startsWith("...")) exact++;
          depth--;
          climbs++;
          if (depth < lowest) lowest = depth;
        } else if (seg !== "" && seg !== ".") depth++;
      }
      // Runs of three or more dots climb on some servers, but alone they are an ellipsis.
      if (climbs === 0 || (exact === 0 && climbs < 2)) continue;
      const absolute = run.startsWith("/");
      const rest = run.slice(run.lastIndexOf(".."));
      const sensitive = SENSITIVE.test(rest) || SENSITIVE.test(run);
      let level: ParanoiaLevel | 0 = 0;
      if (lowest <= -2 || (lowest < 0 && (sensitive || absolute))) level = 1;
      else if (lowest < 0) level = 2;
      // `/aaaa.../../etc/passwd` never leaves the root, but a climb onto a system file is the attack.
      else if (sensitive) level = 1;
      else if (climbs >= 2) level = 3;
      if (level) {
        hits.push({
          kind: "path-traversal",
          rule: "traversal.climb",
          paranoiaLevel: level,
          index: m.index,
          length: run.length,
        });
        return;
      }
    }
  }
  // Every sensitive name has an ASCII letter.
  const file = ASCII_LETTER.test(text) ? SENSITIVE.exec(text) : null;
  // A Windows system directory named without climbing is a path, not an attack.
  if (
    file &&
    !/^[/\\]?(?:windows[/\\])?(?:system32|winnt)[/\\]?$/i.test(file[0]) &&
    (file.index === 0 || /[/\\]/.test(text[file.index] ?? ""))
  ) {
    hits.push({
      kind: "path-traversal",
      rule: "traversal.sensitive-file",
      paranoiaLevel: 1,
      index: file.index,
      length: file[0].length,
    });
  }
}

// ---------------------------------------------------------------- NoSQL, prototype pollution

const MONGO_OPERATORS =
  "ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|or|and|nor|not|elemMatch|expr|text|search|type|size|all|mod|jsonSchema|function|accumulator|lookup|merge|out|options|comment|geoWithin|near|slice|set|unset|inc|push|rename|currentOp|eval";
const MONGO_KEY = new RegExp(`^\\$(?:${MONGO_OPERATORS})$`, "i");
const MONGO_IN_TEXT = new RegExp(`(?:^|[{\\[,(\\s'"&])\\$(?:${MONGO_OPERATORS})\\b\\s{0,16}["']?\\s{0,16}[:\\]=]`, "i");
const MONGO_JS =
  /^\w{0,20}\s{0,16};\s{0,16}return\s|\bthis\s{0,16}\.\s{0,16}\w+\s{0,16}\.\s{0,16}(?:match|constructor)\s{0,16}\(|\bdb\s{0,16}\.\s{0,16}[\w$]+\s{0,16}\.\s{0,16}(?:insert|find|findOne|update|remove|drop|mapReduce|aggregate|save|delete\w*)\s{0,16}\(|\bdb\s{0,16}\.\s{0,16}(?:getCollection|dropDatabase|eval|getSiblingDB)\s{0,16}\(|['"]\s{0,16};\s{0,16}(?:sleep|while|return|var|let|const|it\s{0,16}=|db\.)|\bsleep\s{0,16}\(\s{0,16}\d{3,}\s{0,16}\)|['"]\s{0,16}(?:&&|\|\|)\s{0,16}(?:this\.|['"]?\w+['"]?\s{0,16}===?)|(?:\|\||&&)\s{0,16}['"]?\w{1,20}['"]?\s{0,16}===?\s{0,16}['"]?\w/;
const PROTO_KEY = /^(?:__proto__|prototype)$/;
const PROTO_IN_TEXT =
  /__proto__\s{0,16}(?:[[.:"'=]|$)|["']__proto__["']|\bconstructor\s{0,16}(?:\.\s{0,16}|\[\s{0,16}["']?)prototype\b|^__proto__$/;

/**
 * What MONGO_JS cannot match without (case-sensitive, like it): a call, `&&` or `||`, or a ";"
 * with `return`, or with a quote and one of the words that may follow `';`.
 */
function mayBeMongoJs(text: string): boolean {
  if (text.includes("(") || text.includes("&&") || text.includes("||")) return true;
  if (!text.includes(";")) return false;
  if (text.includes("return")) return true;
  return (
    (text.includes("'") || text.includes('"')) &&
    (text.includes("sleep") ||
      text.includes("while") ||
      text.includes("var") ||
      text.includes("let") ||
      text.includes("const") ||
      text.includes("=") ||
      text.includes("db."))
  );
}

function nosqlHits(text: string, location: Location, hits: RuleHit[]): void {
  if (location === "key") {
    const bracket = /\[\s{0,16}\$(\w+)\s{0,16}\]/.exec(text);
    if (MONGO_KEY.test(text))
      hits.push({ kind: "nosql", rule: "nosql.operator-key", paranoiaLevel: 1, index: 0, length: text.length });
    else if (bracket && MONGO_KEY.test(`$${bracket[1]}`)) {
      hits.push({
        kind: "nosql",
        rule: "nosql.operator-key",
        paranoiaLevel: 1,
        index: bracket.index,
        length: bracket[0].length,
      });
    } else if (/^\$[a-z]/i.test(text))
      hits.push({ kind: "nosql", rule: "nosql.dollar-key", paranoiaLevel: 2, index: 0, length: text.length });
    if (PROTO_KEY.test(text) && text === "__proto__") {
      hits.push({ kind: "prototype-pollution", rule: "proto.key", paranoiaLevel: 1, index: 0, length: text.length });
    }
  }
  if (text.includes("$")) {
    const m = MONGO_IN_TEXT.exec(text);
    if (m) hits.push({ kind: "nosql", rule: "nosql.operator", paranoiaLevel: 1, index: m.index, length: m[0].length });
  }
  const js = mayBeMongoJs(text) ? MONGO_JS.exec(text) : null;
  if (js)
    hits.push({ kind: "nosql", rule: "nosql.javascript", paranoiaLevel: 1, index: js.index, length: js[0].length });
  if (text.includes("proto")) {
    const p = PROTO_IN_TEXT.exec(text);
    if (p)
      hits.push({
        kind: "prototype-pollution",
        rule: "proto.path",
        paranoiaLevel: 1,
        index: p.index,
        length: p[0].length,
      });
  }
}

// ---------------------------------------------------------------- CRLF, SSTI, LDAP, XXE, code

const HEADER_NAMES =
  "content-type|content-length|content-disposition|set-cookie|cookie|location|refresh|transfer-encoding|host|remote-addr|x-[\\w-]{1,40}|access-control-[\\w-]{1,40}|cache-control|connection|authorization|www-authenticate|link|content-security-policy|server|upgrade|expect|via|forwarded";
const CRLF_HEADER = new RegExp(`^[\\r\\n][\\r\\n\\t ]{0,16}(?:${HEADER_NAMES})[\\r\\t ]{0,16}:`, "i");
const CRLF_REQUEST =
  /^[\r\n]\s{0,16}(?:(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH|TRACE|CONNECT)\s{1,16}\S{1,2000}\s{1,16}HTTP\/\d|HTTP\/\d(?:\.\d)?\s{1,16}\d{3})/i;
// Mail protocol commands smuggled after a line break (SMTP, IMAP, POP3).
const CRLF_MAIL =
  /^[\r\n]{1,4}\s{0,16}(?:mail\s{1,4}from\s{0,4}:|rcpt\s{1,4}to\s{0,4}:|ehlo\s|helo\s|apop\s|auth\s{1,4}[a-z]|[a-z]{1,4}\d{1,6}\s{1,4}(?:authenticate|status|uid|append|login|select|examine|fetch|store|list|copy|search|create|delete|rename|expunge|capability)\b|(?:retr|list|dele|top|uidl)\s{1,4}\d|(?:data|quit|rset|noop)\s{0,16}(?:[\r\n]|$))/i;
const CRLF_BODY = /^\r?\n\r?\n\s{0,16}<(?:html|script|body|head|meta|title|svg|iframe)\b/i;
const CRLF_ANY_HEADER = /^[\r\n][\w-]{1,60}[\r\t ]{0,16}:/;
const META_REFRESH = /<meta\b[^>]{0,200}http-equiv\s{0,16}=\s{0,16}["']?refresh/i;

const SSTI_BRACES = /\{\{([^{}]{1,200})\}\}|\{\{([^{}]{1,200})$/;
const SSTI_EXPRESSION =
  /\d\s{0,16}[*+/%-]\s{0,16}\d|__\w{2,30}__|\(\s{0,16}\)|\bconfig\b|\bself\b|\brequest\b|\bcycler\b|\blipsum\b|\bjoiner\b|\bnamespace\b|\[\s{0,16}['"]|\|\s{0,16}(?:attr|safe|e|join)\b|\.\s{0,16}__|\bconstructor\b|\$\w+|\bclass\b/;
const SSTI_DOLLAR = /[$#]\{([^{}]{1,200})\}/;
const SSTI_DOLLAR_CODE =
  /\d\s{0,16}[*+/%-]\s{0,16}\d|\bT\s{0,16}\(|\bjava\.|Runtime|getClass|ProcessBuilder|\bexec\s{0,16}\(|\bclass\.|\bnew\s{1,16}[A-Z]|\bruntime\b|\bsystem\s{0,16}\(|\.forName\s{0,16}\(|@\w+@/;
const SSTI_ERB = /<%=?\s{0,16}([^%]{0,200})%>/;
const SSTI_ERB_CODE =
  /\d\s{0,16}[*+/%-]\s{0,16}\d|\b(?:system|exec|eval|spawn|require|File|IO|Kernel|Process|open|puts|print)\b|`|\(\s{0,16}['"]/;
const SSTI_TAG =
  /\{%\s{0,16}(?:if|for|set|import|include|extends|macro|raw|block|call|from|with|filter|load|debug|endif|endfor)\b|<%\s{0,16}(?:if|for|end)\b|\*\{[^}]{1,200}\}/i;

const LDAP =
  /\)\s{0,16}[&|!]?\s{0,16}\(\s{0,16}(?:[&|!]|[a-zA-Z][\w.-]{0,40}\s{0,16}[~<>]?=)|^\s{0,16}\(\s{0,16}[&|!]\s{0,16}\(|\)\s{0,16}\(\s{0,16}[&|!]\s{0,16}\)?\s{0,16}$|\*\s{0,16}\)\s{0,16}[&|!]?\s{0,16}\(|\)\s{0,16}[!&|]\s{0,16}\(\s{0,16}[a-zA-Z][\w.-]{0,40}\s{0,16}[~<>]?=/;

const XXE =
  /<?!ENTITY\s{1,16}%?\s{0,16}[\w.-]{1,60}\s{1,16}(?:SYSTEM|PUBLIC|["'])|\bxsi:schemaLocation\s{0,16}=\s{0,16}["'][^"']{0,200}https?:|<!ENTITY\b|<!DOCTYPE[^>[]{0,400}\[|\bSYSTEM\s{1,16}["'](?:file|https?|php|expect|jar|netdoc|gopher|ftp|data):|<xi:include\b|\bxmlns:xi\s{0,16}=/i;

const JNDI =
  /\{\s{0,16}jndi\s{0,16}:|\$\{\s{0,16}(?:\$\{|(?:lower|upper|env|sys|java|date|base64|main|bundle|k8s|docker|log4j|spring|ctx|web|marker|map|sd|event):)/i;
const PHP_CODE =
  /<\?(?:php\b|=)|\b(?:phpinfo|base64_decode|gzinflate|gzuncompress|str_rot13|create_function|call_user_func(?:_array)?|assert|preg_replace|file_(?:get|put)_contents|fopen|fwrite|fputs|highlight_file|show_source|move_uploaded_file|unserialize|ini_set|set_time_limit|array_map|usort|extract|parse_str|putenv|mail|readfile|symlink|curl_exec|fsockopen)\s{0,16}\(\s{0,16}[$'"@(\w]|\b(?:include|require)(?:_once)?\s{0,16}\(?\s{0,16}["'$]|\b(?:php|expect|phar|zip|zlib|glob|compress\.zlib|compress\.bzip2|ogg|rar|ssh2(?:\.[a-z]{1,10}|)):\/\/|\$\{\s{0,16}@|\b(?:phpinfo|phpversion|php_uname|getcwd|get_current_user)\s{0,16}\(\s{0,16}\)|\bO:\d{1,4}:"[\w\\]{1,100}":\d{1,4}:\{|\$_(?:GET|POST|REQUEST|COOKIE|SERVER|FILES|ENV|SESSION)\b|\$GLOBALS\b/i;
const JAVA_CODE =
  /java\.lang\.(?:Runtime|ProcessBuilder|System|Class|reflect|Thread)|\bRuntime\s{0,16}\.\s{0,16}getRuntime|getClass\s{0,16}\(\s{0,16}\)\s{0,16}\.\s{0,16}(?:forName|getClassLoader)|\bProcessBuilder\s{0,16}\(|javax\.script|\bClassLoader\b|\bclass\.module\.classLoader|#_memberAccess|@java\.lang|\bognl\b|xwork\.MethodAccessor|java\.io\.(?:File|InputStream)|\.getMethod\s{0,16}\(|\.invoke\s{0,16}\(|\bjava\.beans\.XMLDecoder|<java\b[^>]{0,100}>|\bsun\.misc\b|rO0AB|\baced0005/i;
const NODE_CODE =
  /require\s{0,16}\(\s{0,16}['"`](?:child_process|fs|net|vm|os|http)['"`]|\bprocess\s{0,16}\.\s{0,16}(?:mainModule|binding|env|kill|exit|dlopen|cwd)\b|\bchild_process\b|\.constructor\s{0,16}\(\s{0,16}['"`]|\bnew\s{1,16}Function\s{0,16}\(|\bglobal(?:This)?\s{0,16}\.\s{0,16}process|\bfs\s{0,16}\.\s{0,16}(?:readFileSync|writeFileSync|readdirSync|unlinkSync|readFile)|_\$\$ND_FUNC\$\$_|\bvm\s{0,16}\.\s{0,16}runIn\w*Context|\beval\s{0,16}\(\s{0,16}(?:atob|Buffer|String)/;
// What each code regex cannot match without (every alternative needs one of these), so a long
// input without any of them skips the regex.
const PHP_HINT = /<\?|\(|include|require|:\/\/|\$\{|o:\d|\$_|\$globals/i;
const JAVA_HINT = /\(|java|runtime|classloader|class\.|#_memberaccess|ognl|xwork|sun\.misc|ro0ab|aced0005/i;
const NODE_HINT = /\(|process|readFile|writeFileSync|readdirSync|unlinkSync|_\$\$ND_FUNC|runIn/;
const REMOTE_INCLUDE =
  /^(?:https?|ftps?|file|gopher|dict|ldap|tftp|jar|netdoc|smb):\/\/[^\s]{1,2000}\?\s{0,16}$|^(?:ftps?|file|gopher|dict|tftp|jar|netdoc|smb):\/\//i;

/** Whether a ")" closes a "(" the string did not open: a breakout rather than a whole filter or formula. */
function closesUnopened(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41 && --depth < 0) return true;
  }
  return false;
}

function miscHits(text: string, location: Location, raw: boolean, hits: RuleHit[], level: ParanoiaLevel): void {
  if (text.includes("\r") || text.includes("\n")) {
    // Each line break (at most 256) is checked on a short window: linear on any input.
    let breaks = 0;
    for (let i = 0; i < text.length && breaks < 256; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      breaks++;
      const window = text.slice(i, i + 240);
      const before = hits.length;
      addMatch(hits, "crlf-injection", "crlf.header", 1, CRLF_HEADER.exec(window));
      addMatch(hits, "crlf-injection", "crlf.request", 1, CRLF_REQUEST.exec(window));
      addMatch(hits, "crlf-injection", "crlf.body", 1, CRLF_BODY.exec(window));
      addMatch(hits, "crlf-injection", "crlf.mail-command", 1, CRLF_MAIL.exec(window));
      // Encoded line breaks, or any line break in a key, header or path, split headers.
      if (!raw || location !== "value")
        addMatch(hits, "crlf-injection", "crlf.line-break", 1, CRLF_ANY_HEADER.exec(window));
      for (let h = before; h < hits.length; h++) hits[h]!.index += i;
      if (hits.length > before) break;
    }
    if (location !== "value") addMatch(hits, "crlf-injection", "crlf.line-break", 1, /[\r\n]/.exec(text));
    else if (level >= 3) addMatch(hits, "crlf-injection", "crlf.line-break", 3, /[\r\n]/.exec(text));
  }
  if (text.includes("<") && /refresh/i.test(text))
    addMatch(hits, "crlf-injection", "crlf.meta-refresh", 1, META_REFRESH.exec(text));
  if (text.includes("{{")) {
    const m = SSTI_BRACES.exec(text);
    if (m) addMatch(hits, "ssti", "ssti.expression", SSTI_EXPRESSION.test(m[1] ?? m[2] ?? "") ? 1 : 3, m);
  }
  if (text.includes("{")) {
    const m = SSTI_DOLLAR.exec(text);
    if (m && SSTI_DOLLAR_CODE.test(m[1]!)) addMatch(hits, "ssti", "ssti.expression", 1, m);
    if (level >= 2) addMatch(hits, "ssti", "ssti.tag", 2, SSTI_TAG.exec(text));
    addMatch(hits, "code-injection", "code.jndi", 1, JNDI.exec(text));
  }
  if (text.includes("<%")) {
    const m = SSTI_ERB.exec(text);
    if (m && SSTI_ERB_CODE.test(m[1]!)) addMatch(hits, "ssti", "ssti.expression", 1, m);
    if (level >= 2) addMatch(hits, "ssti", "ssti.tag", 2, SSTI_TAG.exec(text));
  }
  if (text.includes(")") && closesUnopened(text)) addMatch(hits, "ldap-injection", "ldap.filter", 1, LDAP.exec(text));
  if (/<!|!ENTITY|SYSTEM|xi:|schemaLocation/i.test(text)) addMatch(hits, "xxe", "xxe.entity", 1, XXE.exec(text));
  addMatch(hits, "code-injection", "code.php", 1, PHP_HINT.test(text) ? PHP_CODE.exec(text) : null);
  addMatch(hits, "code-injection", "code.java", 1, JAVA_HINT.test(text) ? JAVA_CODE.exec(text) : null);
  addMatch(hits, "code-injection", "code.node", 1, NODE_HINT.test(text) ? NODE_CODE.exec(text) : null);
  if (level >= 2) addMatch(hits, "code-injection", "code.remote-include", 2, REMOTE_INCLUDE.exec(text));
}

// Cheap character tests that rule groups out before their regexes run.
const COMMAND_CHARS = /[;|&`$\n\r(){}%<>[\\]|bin\/|~[+-]|!-\d|\/[^\s/]{0,40}[?*]|\u001b/;
const FIRST_WORD = /^\s{0,16}(?:[/\\][\w./\\-]{0,80}[/\\]|)([a-z][\w.-]{0,20})/i;
const COMMAND_WORDS = new Set(`${TECH_COMMANDS}|${WORD_COMMANDS}`.replace(/\\\./g, ".").split("|"));
const CODE_CHARS = /[(:$<@#{]|\bO:\d/;

/** Whether a string of words and dashes may still be a command line (`uname -a`, `sleep 5`, `net view`). */
export function mayBeCommand(text: string): boolean {
  const first = FIRST_WORD.exec(text)?.[1]?.toLowerCase();
  return first !== undefined && (COMMAND_WORDS.has(first) || isTech(first));
}

const SHELL_SYNTAX = /['"\\$`{}[\]]/;
const WORD_END = /[\s;|&]/;
// WORD_END without a regex call for ASCII.
const isWordEnd = (c: number) =>
  c < 128
    ? c === 59 || c === 124 || c === 38 || c === 32 || (c >= 9 && c <= 13)
    : WORD_END.test(String.fromCharCode(c));

/** A program spelled through quoting or expansion right after a separator (`q;ec$@ho x`, `|w'h'o'am'i`); index or -1. */
function obfuscatedAfterSeparator(text: string): number {
  let seen = 0;
  for (let i = 0; i < text.length && seen < 64; i++) {
    const c = text[i]!;
    if (c !== ";" && c !== "|" && c !== "&" && c !== "\n" && c !== "\r") continue;
    seen++;
    let j = i + 1;
    while (j < text.length && j - i < 16 && (text[j] === " " || text[j] === "\t" || text[j] === c)) j++;
    let k = j;
    while (k < text.length && k - j < 60 && !isWordEnd(text.charCodeAt(k))) k++;
    const word = text.slice(j, k);
    if (!SHELL_SYNTAX.test(word)) continue;
    const spelled = shellNormalize(word).trimStart().split(/\s/, 1)[0]?.toLowerCase() ?? "";
    const name = spelled.slice(spelled.lastIndexOf("/") + 1);
    if (spelled !== word.toLowerCase() && (COMMAND_WORDS.has(name) || isTech(name))) return i;
  }
  return -1;
}

// The kinds each rule family below reports (inspect.test.ts checks that narrowing `kinds` loses nothing).
const MISC_KINDS: readonly Kind[] = ["crlf-injection", "ssti", "ldap-injection", "xxe", "code-injection"];
const ALL_KINDS: ReadonlySet<Kind> = new Set(KINDS);

/**
 * All non-SQL, non-XSS rule hits for one decoded form of a string; rules that only report above
 * `level`, and families that report none of `kinds`, may be left out.
 */
export function ruleHits(
  text: string,
  location: Location,
  raw: boolean,
  hits: RuleHit[],
  level: ParanoiaLevel = 4,
  kinds: ReadonlySet<Kind> = ALL_KINDS,
): void {
  if (kinds.has("command-injection") && (COMMAND_CHARS.test(text) || mayBeCommand(text) || /['"{]/.test(text))) {
    const shell = shellNormalize(text);
    commandHits(shell, hits, level, shell !== text);
    // Everything below looks at what normalisation changed.
    if (shell !== text) {
      // Obfuscation that spells a program (`c{a,oun}t`, `{id,}`, `w'h'o'am'i`) is an attack by itself.
      // A program name is short: 200 characters of the first word are enough, and keep this O(1).
      const head = text.trimStart().slice(0, 200).split(/\s/, 1)[0] ?? "";
      const obfuscatedHead = /[{}[\]$\\`<>]/.test(head) || (head.match(/['"]/g)?.length ?? 0) >= 2;
      // The obfuscation must touch the program name itself (`ping\`\` 1.2.3.4`, not `echo $x`).
      if (
        obfuscatedHead &&
        mayBeCommand(shell) &&
        (!mayBeCommand(text) || (shell.trimStart().slice(0, 200).split(/\s/, 1)[0] ?? "") !== head)
      ) {
        hits.push({
          kind: "command-injection",
          rule: "cmd.obfuscated-command",
          paranoiaLevel: 1,
          index: 0,
          length: text.length,
        });
      }
      const at = obfuscatedAfterSeparator(text);
      if (at >= 0)
        hits.push({
          kind: "command-injection",
          rule: "cmd.obfuscated-command",
          paranoiaLevel: 1,
          index: at,
          length: 1,
        });
      commandHits(text, hits, level);
    }
  }
  if (
    kinds.has("path-traversal") &&
    (text.includes("/") || text.includes("\\") || text.includes("..") || PATHISH.test(text))
  )
    traversalHits(text, hits);
  if (kinds.has("nosql") || kinds.has("prototype-pollution")) nosqlHits(text, location, hits);
  if (
    MISC_KINDS.some((kind) => kinds.has(kind)) &&
    (CODE_CHARS.test(text) || text.includes("\r") || text.includes("\n") || /[()]/.test(text))
  )
    miscHits(text, location, raw, hits, level);
}

/** MONGO_JS with its gate (for the soundness tests). */
export const MONGO_JS_GATE = [mayBeMongoJs, MONGO_JS] as const;

/** Each code regex with the gate that must match wherever it does (tests check the pairs). */
export const CODE_GATES: readonly (readonly [gate: RegExp, rule: RegExp])[] = [
  [PHP_HINT, PHP_CODE],
  [JAVA_HINT, JAVA_CODE],
  [NODE_HINT, NODE_CODE],
];

/** Each gated command regex with its gate (taking the text), for the soundness tests. */
export const COMMAND_GATE_PAIRS: readonly (readonly [gate: (text: string) => boolean, rule: RegExp])[] = [
  [mayStartWithProgram, COMMAND_AT_START],
  [mayStartWithProgram, TECH_AT_START],
  [mayStartWithProgram, ESCAPED_COMMAND],
  [mayStartWithProgram, WRAPPED_COMMAND],
  [mayStartWithProgram, WRAPPER_PROGRAM],
  [mayStartWithProgram, PACKAGE_INSTALL],
  [(text) => COMMAND_GATE_WORDS.test(text) && COMMAND_GATES.windowsVerb(text.toLowerCase()), WINDOWS_VERB],
  [(text) => COMMAND_GATE_WORDS.test(text) && COMMAND_GATES.expansion(text.toLowerCase()), SHELL_EXPANSION],
  [(text) => COMMAND_GATE_WORDS.test(text) && COMMAND_GATES.batch(text.toLowerCase()), BATCH],
  [(text) => COMMAND_GATE_WORDS.test(text) && COMMAND_GATES.powershell(text.toLowerCase()), POWERSHELL],
  [(text) => COMMAND_GATE_WORDS.test(text) && COMMAND_GATES.dotCommand(text.toLowerCase()), DOT_COMMAND],
  [(text) => COMMAND_GATE_WORDS.test(text) && COMMAND_GATES.ssi(text.toLowerCase()), SSI],
  [(text) => COMMAND_GATE_WORDS.test(text) && COMMAND_GATES.windowsShell(text.toLowerCase()), WINDOWS_SHELL],
  [(text) => COMMAND_GATE_WORDS.test(text) && COMMAND_GATES.execCall(text.toLowerCase()), CODE_EXEC_CALL],
  [(text) => COMMAND_GATE_WORDS.test(text) && COMMAND_GATES.unixPath(text.toLowerCase()), UNIX_PATH_EXEC],
];

/** The word lists the command rules judge by (for the plain-text pre-filter's keyword set). */
export const RULE_WORD_SETS: readonly ReadonlySet<string>[] = [COMMAND_WORDS, TECH_WORDS, WORD_WORDS];

export const RULE_REGEXES: readonly RegExp[] = [
  ASCII_LETTER,
  BRACE_START,
  PROGRAM_TOKEN_AT,
  ENCODED_PATH,
  EMPTY_EXPANSION,
  DOT_COMMAND,
  CRLF_MAIL,
  TECH_PATTERN,
  AFTER_TECH,
  WORD_ARGUMENT,
  PATHISH,
  DOT_LIKE,
  FLAG_ARGUMENT,
  BRACE_WORD,
  GLOB_CLASS,
  SHELL_EXPANSION,
  SHELL_DASH_C,
  TILDE_OR_HISTORY,
  PACKAGE_INSTALL,
  RELATIVE_BIN,
  WRAPPER_PROGRAM,
  TOOL_FAMILY,
  PAIR_START,
  BLANK_REST,
  SHELL_SYNTAX,
  WORD_END,
  ESCAPED_COMMAND,
  BATCH,
  POWERSHELL,
  WRAPPED_COMMAND,
  WINDOWS_VERB,
  COMMAND_CHARS,
  FIRST_WORD,
  CODE_CHARS,
  COMMAND_AT_START,
  TECH_AT_START,
  SHELLSHOCK,
  SSI,
  WINDOWS_SHELL,
  CODE_EXEC_CALL,
  UNIX_PATH_EXEC,
  ANSI_ESCAPE,
  QUOTE_IN_WORD,
  BRACE_LIST,
  SENSITIVE,
  PATH_RUN,
  SLASH_LIKE,
  MONGO_KEY,
  MONGO_IN_TEXT,
  MONGO_JS,
  PROTO_KEY,
  PROTO_IN_TEXT,
  CRLF_HEADER,
  CRLF_REQUEST,
  CRLF_BODY,
  CRLF_ANY_HEADER,
  META_REFRESH,
  SSTI_BRACES,
  SSTI_EXPRESSION,
  SSTI_DOLLAR,
  SSTI_DOLLAR_CODE,
  SSTI_ERB,
  SSTI_ERB_CODE,
  SSTI_TAG,
  LDAP,
  XXE,
  JNDI,
  PHP_CODE,
  JAVA_CODE,
  NODE_CODE,
  REMOTE_INCLUDE,
];
