// The shared service Dockerfile against the machine-checkable policy (no Docker Engine needed).
import { dockerfilePolicy, npmTokenPolicy } from '../../../tools/test/support/dockerfile-policy.mjs';

dockerfilePolicy('docker/service/Dockerfile');
npmTokenPolicy('docker/service/Dockerfile');
