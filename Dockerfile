# Two stages: build `mes` with the Swift toolchain, then run it on a slim Debian with only the
# C libraries' runtime packages. The Swift runtime is linked statically.
#   docker build -t mes .
#   docker run -e MES_DATABASE_URL=postgresql://mes:mes@db:5432/mes mes migrate
#   docker run -e MES_DATABASE_URL=… -e MES_MQTT_URL=mqtt://broker:1883 -v mes-spool:/var/lib/mes/spool mes collect

FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev libmosquitto-dev libcmark-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
RUN swift build -c release --product mes --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/mes" /out/bin/mes

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 libmosquitto1 libcmark0.30.2 libcurl4 ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/mes mes
COPY --from=build /out/bin/mes /usr/local/bin/mes
COPY Migrations /usr/local/share/mes/Migrations
COPY Templates /usr/local/share/mes/Templates
COPY Public /usr/local/share/mes/Public
USER mes
WORKDIR /var/lib/mes
ENV MES_HTTP_ADDRESS=0.0.0.0:8080 \
    MES_SPOOL_DIR=/var/lib/mes/spool
EXPOSE 8080
# Ready: the database answers and the schema is current (mes serve's /readyz).
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s CMD ["sh", "-c", "curl -fsS http://127.0.0.1:8080/readyz || exit 1"]
ENTRYPOINT ["/usr/local/bin/mes"]
CMD ["--help"]
