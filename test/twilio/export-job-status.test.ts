/**
 * How a Bulk Export job's `details` (days grouped by status) read: every status Twilio's API
 * definition lists for a day has its place. A day Twilio will never make in the job (`Failed`,
 * `ErrorDuringRun`, `RunningToBeDeleted`, `DeletedByUserRequest`) is failed, with its status —
 * not pending, which the snapshot would poll until `--export-wait` ran out. A status Twilio has
 * not documented is pending: waited on, never read as done.
 */

import { describe, expect, it } from 'vitest';

import { toExportJob } from '../../src/twilio/adapter.js';

describe('toExportJob', () => {
  it('sorts each of Twilio’s day statuses into its state', () => {
    const job = toExportJob({
      job_sid: 'JS1',
      details: [
        { status: 'Submitted', days: ['2024-01-09'] },
        { status: 'Running', days: ['2024-01-08'] },
        { status: 'Completed', days: ['2024-01-02', '2024-01-01'] },
        { status: 'CompletedEmptyRecords', days: ['2024-01-03'] },
        { status: 'Failed', days: ['2024-01-05'] },
        { status: 'ErrorDuringRun', days: ['2024-01-04'] },
        { status: 'RunningToBeDeleted', days: ['2024-01-06'] },
        { status: 'DeletedByUserRequest', days: ['2024-01-07'] },
        { status: 'SomethingNew', days: ['2024-01-10'] },
      ],
    });
    expect(job).toEqual({
      jobSid: 'JS1',
      completedDays: ['2024-01-01', '2024-01-02'],
      emptyDays: ['2024-01-03'],
      pendingDays: ['2024-01-08', '2024-01-09', '2024-01-10'],
      failedDays: [
        { day: '2024-01-04', status: 'ErrorDuringRun' },
        { day: '2024-01-05', status: 'Failed' },
        { day: '2024-01-06', status: 'RunningToBeDeleted' },
        { day: '2024-01-07', status: 'DeletedByUserRequest' },
      ],
      estimatedCompletion: null,
    });
  });
});
