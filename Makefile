# The two things a newcomer runs; README.md explains both.
.PHONY: demo test lab-up lab-down

GO ?= go

# The main job: netrecon on simulated devices, nothing to set up.
demo:
	$(GO) run ./cmd/netrecon demo

# The whole test suite, with the real NETCONF and SNMP servers it needs (installs
# them with apt-get when missing; needs root). .ci/run runs exactly this.
test:
	bash lab/test-all.sh
