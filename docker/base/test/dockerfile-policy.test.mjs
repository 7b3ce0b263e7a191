// The base image's Dockerfile against the machine-checkable policy (no Docker Engine needed).
import { dockerfilePolicy } from '../../../tools/lib/dockerfile-policy.mjs';

dockerfilePolicy('docker/base/Dockerfile');
