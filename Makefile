# The two things a newcomer runs; README.md explains both.
.PHONY: demo test

# The main job: netrecon end to end on simulated routers, nothing to set up.
demo:
	go run ./cmd/netrecon demo

# The whole test suite, with the real NETCONF and SNMP servers it needs (installs
# them with apt-get when missing; needs root). .ci/run runs exactly this.
test:
	bash lab/test-all.sh
