// The base image's Dockerfile against the machine-checkable policy (no Docker Engine needed).
import { dockerfilePolicy } from '../../../tools/test/support/dockerfile-policy.mjs';

dockerfilePolicy('docker/base/Dockerfile');
