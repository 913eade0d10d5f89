# python3Packages: a nested set, like nixpkgs'. Each package puts its modules under
# site-packages and references python3 and its Python dependencies (requests -> urllib3 ->
# python3), so closures look like real Python closures.
{ mkPkg, python3, cacert }:
let
  buildPythonPackage = { pname, version, description, kb, deps ? [ ], extra ? "" }:
    mkPkg {
      pname = "python3.11-${pname}";
      inherit version description;
      deps = [ python3 ] ++ deps;
      passthru = { inherit pname; };
      script = ''
        site=$out/${python3.sitePackages}
        mkdir -p $site/${pname} $site/${pname}-${version}.dist-info
        mktree $site/${pname} 8 ${toString kb} py
        printf '# %s %s\n__version__ = "%s"\n' ${pname} ${version} ${version} >$site/${pname}/__init__.py
        printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' ${pname} ${version} \
          >$site/${pname}-${version}.dist-info/METADATA
        ${extra}
      '';
    };
  self = with self; {
    six = buildPythonPackage { pname = "six"; version = "1.16.0"; kb = 4;
      description = "Python 2 and 3 compatibility library"; };
    idna = buildPythonPackage { pname = "idna"; version = "3.7"; kb = 40;
      description = "Internationalized Domain Names in Applications"; };
    certifi = buildPythonPackage { pname = "certifi"; version = "2024.2.2"; kb = 4; deps = [ cacert ];
      description = "Mozilla's CA bundle for Python (from cacert)";
      extra = "ln -s ${cacert}/etc/ssl/certs/ca-bundle.crt $site/certifi/cacert.pem"; };
    urllib3 = buildPythonPackage { pname = "urllib3"; version = "2.2.1"; kb = 30;
      description = "HTTP library with thread-safe connection pooling"; };
    charset-normalizer = buildPythonPackage { pname = "charset-normalizer"; version = "3.3.2"; kb = 24;
      description = "The Real First Universal Charset Detector"; };
    requests = buildPythonPackage { pname = "requests"; version = "2.31.0"; kb = 16;
      deps = [ urllib3 idna certifi charset-normalizer ];
      description = "HTTP library for Python"; };
  };
in
self
