// Compose bind-mounts file secrets as they are on the host (uid/gid/mode are ignored outside Swarm), so a key
// file must be readable by the container's numeric user, or the service exits 78 on an unreadable *_FILE.
import { statSync } from 'node:fs';

/** One line per secret file a service cannot read (missing, or no read permission for its user). */
export function secretFileProblems(config, { stat = statSync } = {}) {
  const problems = [];
  for (const [name, service] of Object.entries(config.services ?? {})) {
    const [uid, gid] = String(service.user ?? '')
      .split(':')
      .map((n) => (n === undefined || n === '' ? NaN : Number(n)));
    for (const entry of service.secrets ?? []) {
      const secret = typeof entry === 'string' ? entry : entry.source;
      const file = config.secrets?.[secret]?.file;
      if (!file) continue;
      let info;
      try {
        info = stat(file);
      } catch (error) {
        problems.push(
          `secret ${secret} of ${name}: cannot read ${file} (${error.code ?? error.message}); point the *_API_KEY_FILE variable at an existing file`,
        );
        continue;
      }
      if (!Number.isInteger(uid)) continue; // image user (not numeric here): cannot tell
      const mode = info.mode;
      const readable = (info.uid === uid && mode & 0o400) || (Number.isInteger(gid) && info.gid === gid && mode & 0o040) || mode & 0o004;
      if (!readable)
        problems.push(
          `secret ${secret} of ${name}: ${file} (mode ${(mode & 0o777).toString(8)}) is not readable by the container user ${service.user}: chmod o+r it, or chgrp ${gid} and chmod g+r`,
        );
    }
  }
  return [...new Set(problems)];
}
