// Package labtest lets tests find the real-server lab that lab/lab.sh starts:
// yuma123 netconfd devices behind OpenSSH, an snmpd, and exim4 as the IRR
// tests' MTA (LoadMTA).
//
// The lab describes itself in lab.json (lab/.run/lab.json, or the file named by
// $NETRECON_LAB). Load reads it. When the lab is not running, a test that needs it
// is skipped on a developer's machine and fails in CI (CI=true), so a broken lab
// never turns into a green build. Missing does the same for any other peer a
// test needs (git, bash, netconfd binaries, symbolic links, FIFOs).
//
// Only tests import this package.
package labtest
