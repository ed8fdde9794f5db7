# tailpolicy in a container, for CI systems that run containers:
#
#   docker run --rm -v "$PWD:/src" -w /src ghcr.io/tailpolicy/tailpolicy lint policy.hujson
#
# The image holds the static musl binary and nothing else (no shell, no libc): `lint`,
# `fmt`, `test`, `compile`, `reach`, `matrix`, `diff`, `simulate`. (`node` needs `ip` and a
# TUN device; run it on the host.) The release workflow builds it for linux/amd64 and
# linux/arm64 from the binaries of its release archives, placed at
# dist/docker/<arch>/tailpolicy; by hand, for the host's architecture:
#
#   cargo zigbuild --locked --profile dist -p tailpolicy --target x86_64-unknown-linux-musl
#   mkdir -p dist/docker/amd64 && cp target/x86_64-unknown-linux-musl/dist/tailpolicy dist/docker/amd64/
#   docker build -t tailpolicy .
FROM scratch
ARG TARGETARCH
COPY --chmod=0755 dist/docker/${TARGETARCH}/tailpolicy /usr/local/bin/tailpolicy
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/tailpolicy"]
CMD ["--help"]
