import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { autoRollbackTranscript, cutoverTranscript } from './shift-transcript';

/** The README's shift transcripts are this command's real output (against the fake environment). */
const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

function block(marker: string): string {
  const m = new RegExp(`<!-- ${marker} -->\\n\`\`\`text\\n([\\s\\S]*?)\\n\`\`\`\\n<!-- /${marker} -->`).exec(
    README,
  );
  if (!m?.[1]) throw new Error(`README has no ${marker} block`);
  return m[1];
}

/** Audit ids are random UUIDs; everything else must match to the character. */
const normalize = (text: string) =>
  text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>');

describe('README shift transcripts', () => {
  it('the cutover 0 -> 10 -> 25 -> (refused) -> 50 -> 100 and the rollback', async () => {
    expect(normalize(block('shift-transcript:cutover'))).toBe(normalize(await cutoverTranscript()));
  });

  it('the automatic rollback during a bake', async () => {
    expect(normalize(block('shift-transcript:auto-rollback'))).toBe(
      normalize(await autoRollbackTranscript()),
    );
  });
});
