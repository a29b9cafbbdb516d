"""Pure analysis of Dockerfiles and Kubernetes manifests: text in, findings and fixes out."""
