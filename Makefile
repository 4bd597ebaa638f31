# The two things a newcomer runs; README.md explains both.
.PHONY: test

# The whole test suite, with the real NETCONF and SNMP servers it needs (installs
# them with apt-get when missing; needs root). .ci/run runs exactly this.
test:
	bash lab/test-all.sh
