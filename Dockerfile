# The kaokore CLI with the PostgreSQL driver (the light install: no torch).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kaokore ./kaokore
RUN pip install --no-cache-dir '.[postgres]'
ENV KAOKORE_HOME=/data
VOLUME ["/data"]
ENTRYPOINT ["kaokore"]
CMD ["--help"]
