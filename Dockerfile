# AI Clone Hub: build with the Rust toolchain, run on a slim Debian.
#   docker build -t aiclone-hub .
#   docker run -p 8080:8080 -v hub-data:/data aiclone-hub

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin aiclone-hub \
    && cp target/release/aiclone-hub /usr/local/bin/aiclone-hub

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --home-dir /data --shell /usr/sbin/nologin hub \
    && mkdir -p /data \
    && chown hub:hub /data
COPY --from=builder /usr/local/bin/aiclone-hub /usr/local/bin/aiclone-hub
ENV HUB__STORAGE__DATA_DIR=/data HUB__SERVER__HOST=0.0.0.0
VOLUME /data
USER hub
EXPOSE 8080
HEALTHCHECK CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["aiclone-hub"]
