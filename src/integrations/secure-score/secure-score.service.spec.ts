import { mergeControls } from './secure-score.collector';
import type { SecureScoreSnapshotEntity } from './secure-score-snapshot.entity';
import { diff } from './secure-score.service';

const snapshot = (currentScore: number, controls: SecureScoreSnapshotEntity['controls']) =>
  ({ currentScore, maxScore: 100, controls }) as SecureScoreSnapshotEntity;
const control = (name: string, score: number | null, state: string | null) => ({ name, title: name, category: 'Identity', score, maxScore: 10, state });

describe('Secure Score', () => {
  it("merges the day's control scores with the profiles, state from the newest state update", () => {
    const merged = mergeControls(
      {
        controlScores: [
          { controlName: 'MFA', controlCategory: 'Identity', score: 5 },
          { controlName: 'Orphan', controlCategory: 'Data', score: 1 },
        ],
      },
      [
        {
          id: 'MFA',
          title: 'Require MFA',
          controlCategory: 'Identity',
          maxScore: 9,
          controlStateUpdates: [
            { state: 'Ignored', updatedDateTime: '2025-01-02T00:00:00Z' },
            { state: 'Default', updatedDateTime: '2025-01-01T00:00:00Z' },
          ],
        },
        { id: 'Unscored', title: 'Unscored', controlCategory: 'Apps', maxScore: 3 },
      ],
    );
    expect(merged).toEqual([
      { name: 'MFA', title: 'Require MFA', category: 'Identity', score: 5, maxScore: 9, state: 'Ignored' },
      { name: 'Orphan', title: null, category: 'Data', score: 1, maxScore: null, state: null },
      { name: 'Unscored', title: 'Unscored', category: 'Apps', score: null, maxScore: 3, state: null },
    ]);
  });

  it('diffs two snapshots: score delta and only the controls whose score or state changed', () => {
    const before = snapshot(40, [control('A', 1, 'Default'), control('B', 2, 'Default'), control('Gone', 1, null)]);
    const after = snapshot(42.5, [control('A', 1, 'Default'), control('B', 2, 'Ignored'), control('New', 3, null)]);
    expect(diff(before, after)).toEqual({
      scoreDelta: 2.5,
      maxScoreDelta: 0,
      controls: [
        { name: 'B', title: 'B', category: 'Identity', before: { score: 2, state: 'Default' }, after: { score: 2, state: 'Ignored' } },
        { name: 'Gone', title: 'Gone', category: 'Identity', before: { score: 1, state: null }, after: null },
        { name: 'New', title: 'New', category: 'Identity', before: null, after: { score: 3, state: null } },
      ],
    });
  });
});
