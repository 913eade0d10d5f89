# nixport's network-free package set: `import ./nix/testpkgs { }` is used like nixpkgs.
# Every package is a stand-in of the real one with a realistic shape: libraries that
# reference libc and each other, scripts whose store-path shebang runs them on the host and
# in a container holding only their closure, multiple outputs, trees of files and symlinks,
# sizes from KB to MB. See README.md.
{ system ? builtins.currentSystem, hostBin ? null }:
let
  stdenv = import ./stdenv.nix ({ inherit system; inherit (pkgs) busybox; }
    // (if hostBin == null then { } else { inherit hostBin; }));
  inherit (stdenv) mkPkg;

  # A library package: lib/libNAME.so.SOVERSION of KB KiB plus docs.
  mkLib = { pname, version, description, lib ? pname, so ? version, kb, deps ? [ ], extra ? "", ... }@a:
    mkPkg (removeAttrs a [ "lib" "so" "kb" "extra" ] // {
      script = ''
        mklib ${lib} ${so} ${toString kb}
        mkdoc
        ${extra}
      '';
    });

  big = import ./big.nix { inherit mkPkg; };

  pkgs = with pkgs; {
    # Not derivations: for "not a derivation" errors, like nixpkgs' lib and version.
    version = "24.05.testpkgs";
    lib = { inherit mkPkg; inherit (big) bigdata bigClosure; version = pkgs.version; };

    # The static busybox, applets linked to it: the interpreter of every script here.
    busybox = mkPkg {
      pname = "busybox";
      version = "1.35.0";
      description = "Tiny versions of common UNIX utilities in a single static executable";
      shell = "";
      script = ''
        mkdir -p $out/bin
        cp ${stdenv.boot}/bin/busybox $out/bin/busybox
        for a in $(busybox --list); do
          if [ "$a" != busybox ]; then ln -s busybox "$out/bin/$a"; fi
        done
        mkdoc
      '';
    };

    glibc = mkPkg {
      pname = "glibc";
      version = "2.39-52";
      description = "The GNU C Library (stand-in): the libc nearly every package references";
      script = ''
        mklib c 6 1400
        mklib m 6 600
        mklib pthread 0 16
        mklib dl 2 16
        fill $out/lib/ld-linux-x86-64.so.2 220 glibc/ld
        chmod 555 $out/lib/ld-linux-x86-64.so.2
        mkdir -p $out/share/i18n/locales $out/etc
        for l in C en_US de_DE fr_FR ja_JP pt_BR; do fill $out/share/i18n/locales/$l 24 "glibc/$l"; done
        echo 'hosts: files dns' >$out/etc/nsswitch.conf
        mkbin ldd
        mkdoc
      '';
    };

    zlib = mkLib { pname = "zlib"; version = "1.3.1"; lib = "z"; kb = 110; deps = [ glibc ]; meta.license = { spdxId = "Zlib"; };
      description = "Lossless data-compression library"; };
    pcre = mkLib { pname = "pcre2"; version = "10.43"; lib = "pcre2-8"; so = "0.12.0"; kb = 620; deps = [ glibc ];
      description = "Perl Compatible Regular Expressions"; };
    expat = mkLib { pname = "expat"; version = "2.6.2"; so = "1.9.2"; kb = 190; deps = [ glibc ];
      description = "A stream-oriented C library for parsing XML"; };
    libffi = mkLib { pname = "libffi"; version = "3.4.6"; lib = "ffi"; so = "8.1.4"; kb = 50; deps = [ glibc ];
      description = "A foreign function call interface library"; };
    oniguruma = mkLib { pname = "oniguruma"; version = "6.9.9"; lib = "onig"; so = "5.4.0"; kb = 520; deps = [ glibc ];
      description = "Regular expressions library"; };

    # Two outputs: dev's pkg-config files name out's path, a real dev -> out reference.
    openssl = mkPkg {
      pname = "openssl";
      version = "3.0.14";
      outputs = [ "out" "dev" ];
      deps = [ glibc zlib ];
      description = "A cryptographic library that implements the SSL and TLS protocols";
      script = ''
        mklib ssl 3 700
        mklib crypto 3 1900
        mkdir -p $out/etc/ssl $dev/include/openssl $dev/lib/pkgconfig $dev/nix-support
        echo '# openssl.cnf' >$out/etc/ssl/openssl.cnf
        mkbin openssl
        for h in aes asn1 bio bn buffer crypto des dh dsa ec evp hmac md5 obj_mac objects pem rand rsa sha ssl tls1 x509 x509v3; do
          fill $dev/include/openssl/$h.h 12 "openssl/$h.h"
        done
        for pc in openssl libssl libcrypto; do
          printf 'prefix=%s\nlibdir=''${prefix}/lib\nincludedir=%s/include\nName: %s\nVersion: %s\nLibs: -L''${libdir} -l%s\n' \
            "$out" "$dev" "$pc" "$version" "''${pc#lib}" >$dev/lib/pkgconfig/$pc.pc
        done
        echo "$out" >$dev/nix-support/propagated-build-inputs
        mkdoc
      '';
    };

    ncurses = mkPkg {
      pname = "ncurses";
      version = "6.4";
      outputs = [ "out" "dev" ];
      deps = [ glibc ];
      description = "Free software emulation of curses in System V Release 4.0";
      script = ''
        mklib ncursesw 6.4 420
        mklib formw 6.4 70
        mklib panelw 6.4 14
        # terminfo: one folder per first letter, aliases as symlinks, like the real one
        for t in ansi dumb linux rxvt screen screen-256color tmux tmux-256color vt100 vt220 xterm xterm-256color xterm-color; do
          d=$out/share/terminfo/$(echo $t | cut -c1)
          mkdir -p $d
          fill $d/$t 3 "terminfo/$t"
        done
        ln -s ../x/xterm-256color $out/share/terminfo/x/xterm-direct
        ln -s ../v/vt100 $out/share/terminfo/v/vt102
        mkdir -p $out/share/terminfo/s && ln -s ../s/screen $out/share/terminfo/s/screen.linux
        mkbin tput
        mkbin clear
        mkdir -p $dev/include $dev/lib/pkgconfig $dev/bin
        for h in curses ncurses term form panel unctrl; do fill $dev/include/$h.h 8 "ncurses/$h.h"; done
        printf 'prefix=%s\nName: ncursesw\nVersion: %s\n' "$out" "$version" >$dev/lib/pkgconfig/ncursesw.pc
        printf '#!%s\necho "-L%s/lib -lncursesw"\n' "$shell" "$out" >$dev/bin/ncursesw6-config
        chmod 555 $dev/bin/ncursesw6-config
        mkdoc
      '';
    };

    readline = mkLib { pname = "readline"; version = "8.2p10"; so = "8.2"; kb = 310; deps = [ glibc ncurses ];
      description = "Library for interactive line editing"; };

    cacert = mkPkg {
      pname = "nss-cacert";
      version = "3.101";
      description = "A bundle of X.509 certificates of public Certificate Authorities";
      script = ''
        mkdir -p $out/etc/ssl/certs
        i=0
        while [ $i -lt 140 ]; do
          printf '# Test CA %d\n-----BEGIN CERTIFICATE-----\n' $i
          fill cert 1 "cacert/$i"
          base64 cert | head -n 20
          rm cert
          echo '-----END CERTIFICATE-----'
          i=$((i + 1))
        done >$out/etc/ssl/certs/ca-bundle.crt
        ln -s ca-bundle.crt $out/etc/ssl/certs/ca-certificates.crt
      '';
    };

    curl = mkLib { pname = "curl"; version = "8.7.1"; so = "4.8.0"; kb = 640; deps = [ glibc openssl zlib cacert ];
      description = "A command line tool for transferring files with URL syntax";
      extra = ''mkbin curl; echo "CURL_CA_BUNDLE=${cacert}/etc/ssl/certs/ca-bundle.crt" >$out/lib/curl.conf''; };

    perl = mkPkg {
      pname = "perl";
      version = "5.38.2";
      deps = [ glibc zlib ];
      description = "The standard implementation of the Perl 5 programming language";
      script = ''
        mklib perl 5.38.2 1500
        mktree $out/lib/perl5/5.38.2 90 20 pm
        mkbin perl
        ln -s perl $out/bin/perl5.38.2
        mkbin cpan
        mkdoc
      '';
    };

    # The package with many files: a module tree, extension modules with the executable
    # bit, plain sources without it, and bin/ symlinks.
    python3 = mkPkg {
      pname = "python3";
      version = "3.11.9";
      deps = [ glibc zlib openssl libffi expat ncurses ];
      description = "A high-level dynamically-typed programming language";
      passthru = { pythonVersion = "3.11"; sitePackages = "lib/python3.11/site-packages"; };
      script = ''
        mklib python3.11 1.0 2600
        py=$out/lib/python3.11
        mktree $py 240 12 py
        mkdir -p $py/lib-dynload $py/site-packages
        for m in _ssl _ctypes _hashlib pyexpat zlib _curses _json _struct math select; do
          fill $py/lib-dynload/$m.cpython-311-x86_64-linux-gnu.so 40 "python/$m"
          chmod 555 $py/lib-dynload/$m.cpython-311-x86_64-linux-gnu.so
        done
        : >$py/site-packages/README.txt
        mkbin python3.11
        ln -s python3.11 $out/bin/python3
        ln -s python3.11 $out/bin/python
        mkbin pydoc3
        mkdoc python3
      '';
    };

    # bash wraps busybox sh: enough for scripts, and `bash` vs `bashInteractive` names.
    bash = mkPkg {
      pname = "bash";
      version = "5.2p26";
      deps = [ busybox ];
      description = "GNU Bourne-Again Shell (stand-in that runs busybox sh)";
      script = ''
        mkbin bash 'exec ${busybox}/bin/sh "$@"'
        ln -s bash $out/bin/sh
        mkdoc
      '';
    };
    bashInteractive = mkPkg {
      pname = "bash-interactive";
      version = "5.2p26";
      deps = [ busybox glibc ncurses readline ];
      description = "GNU Bourne-Again Shell with readline, for interactive use";
      script = ''
        mkbin bash 'exec ${busybox}/bin/sh "$@"'
        ln -s bash $out/bin/sh
        mkdir -p $out/etc && echo 'PS1="\w \$ "' >$out/etc/bashrc
        mkdoc
      '';
    };

    # The usual tools, as links to busybox's applets (so they work for real).
    coreutils = mkPkg {
      pname = "coreutils";
      version = "9.5";
      deps = [ busybox glibc ];
      description = "The GNU Core Utilities (stand-in: links to busybox applets)";
      script = ''
        mkdir -p $out/bin
        for a in basename cat chmod cp cut date dd df dirname du echo env expr false head id ln ls md5sum mkdir mktemp mv nproc printf pwd readlink realpath rm rmdir seq sha256sum sleep sort stat tail tee test touch tr true uname uniq wc whoami yes; do
          ln -s ${busybox}/bin/busybox $out/bin/$a
        done
        mkdoc
      '';
    };

    moreutils = mkPkg {
      pname = "moreutils";
      version = "0.69";
      deps = [ perl busybox ];
      description = "Growing collection of the unix tools that nobody thought to write long ago";
      script = ''
        mkbin sponge 'c=$(cat); if [ -n "$1" ]; then printf "%s\n" "$c" >"$1"; else printf "%s\n" "$c"; fi'
        mkbin ts 'exec ${busybox}/bin/ts "$@"'
        mkbin chronic 'o=$("$@" 2>&1) || { s=$?; printf "%s\n" "$o"; exit $s; }'
        mkbin vidir
        mkbin errno
        mkdoc sponge
      '';
    };

    nano = mkPkg {
      pname = "nano";
      version = "8.0";
      deps = [ glibc ncurses ];
      description = "A small, user-friendly console text editor";
      script = ''
        mkbin nano
        mkdir -p $out/share/nano
        for s in c sh python nix json markdown; do fill $out/share/nano/$s.nanorc 2 "nano/$s"; done
        mkdoc
      '';
    };

    less = mkPkg { pname = "less"; version = "643"; deps = [ glibc ncurses ];
      description = "A more advanced file pager than 'more'";
      script = "mkbin less 'exec ${busybox}/bin/less \"$@\"'; mkbin lesskey; mkdoc"; };
    htop = mkPkg { pname = "htop"; version = "3.3.0"; deps = [ glibc ncurses ];
      description = "An interactive process viewer";
      script = "mkbin htop; mkdir -p $out/share/htop; fill $out/share/htop/htop.dat 180 htop; mkdoc"; };
    jq = mkLib { pname = "jq"; version = "1.7.1"; so = "1.0.4"; kb = 380; deps = [ glibc oniguruma ];
      description = "A lightweight and flexible command-line JSON processor"; extra = "mkbin jq"; };

    git = mkPkg {
      pname = "git";
      version = "2.44.1";
      deps = [ glibc zlib openssl curl pcre expat perl python3 bash less ];
      description = "Distributed version control system";
      meta = { license = [ { spdxId = "GPL-2.0-only"; } { spdxId = "LGPL-2.1-or-later"; } ]; homepage = "https://git-scm.com/"; };
      script = ''
        mkbin git
        core=$out/libexec/git-core
        mkdir -p $core $out/share/git-core/templates/hooks
        fill $out/share/git-core/git-core.pack 2400 git
        for c in add commit diff fetch log merge pull push rebase status; do ln -s ../../bin/git $core/git-$c; done
        for h in pre-commit pre-push commit-msg; do mkbin $h; mv $out/bin/$h $out/share/git-core/templates/hooks/$h.sample; done
        mkbin git-remote-http
        mv $out/bin/git-remote-http $core/
        mktree $out/share/git-core/perl 12 8 pm
        mkdoc
      '';
    };

    hello = mkPkg {
      pname = "hello";
      version = "2.12.1";
      description = "A program that produces a familiar, friendly greeting";
      meta = { license = { spdxId = "GPL-3.0-or-later"; shortName = "gpl3Plus"; }; homepage = "https://www.gnu.org/software/hello/"; };
      script = ''
        mkbin hello 'echo "Hello, world!"'
        mkdoc
      '';
    };

    tzdata = mkPkg {
      pname = "tzdata";
      version = "2024a";
      description = "Database of current and historical time zones";
      script = ''
        z=$out/share/zoneinfo
        for r in Africa America Asia Australia Europe Pacific; do
          mkdir -p $z/$r
          for c in A B C D E F G H; do fill $z/$r/City$c 2 "tz/$r/$c"; done
        done
        ln -s Europe/CityA $z/UTC
        ln -s UTC $z/Zulu
        mkdir -p $z/posix && ln -s ../Europe $z/posix/Europe
        printf 'Europe/CityA\n' >$z/zone1970.tab
      '';
    };

    # Fails on purpose, with a recognisable log.
    broken = mkPkg {
      pname = "broken";
      version = "1.0";
      description = "A package that always fails to build (for error paths)";
      script = ''
        echo "configuring broken 1.0"
        echo "compiling broken.c ..."
        echo "broken.c:3:5: error: this package is broken on purpose" >&2
        exit 1
      '';
    };

    # Builds on x86_64 only: one platform of an index failing while the others build.
    x86only = mkPkg {
      pname = "x86only";
      version = "1.0";
      description = "A package that fails to build for aarch64-linux (for per-platform errors)";
      script = ''
        if [ "$(uname -m)" = aarch64 ]; then
          echo "x86only.c:1:1: error: this package does not build for aarch64" >&2
          exit 1
        fi
        mkbin x86only
      '';
    };

    python3Packages = import ./python-packages.nix { inherit mkPkg python3 cacert; };

    # Benchmark sets; see README.md. Plain sets and functions: not built by `nix-build` of
    # the whole file.
    synthetic = import ./synthetic.nix { inherit pkgs; };
    inherit (big) bigdata bigClosure;
  };
in
pkgs
