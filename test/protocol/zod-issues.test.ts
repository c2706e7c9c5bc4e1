import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { zodIssueList, zodIssuesText } from '../../protocol/zod-issues.js';

const ride = z.object({ rideId: z.string().min(1), fare: z.object({ amount: z.number().int().positive(), currency: z.string().length(3) }) });

function errorOf(schema: z.ZodType, input: unknown): z.ZodError {
  const parsed = schema.safeParse(input);
  if (parsed.success) throw new Error('expected the input to be refused');
  return parsed.error;
}

describe('zod issues in words', () => {
  it('names each bad field by its dotted path, then what was wrong', () => {
    const error = errorOf(ride, { rideId: '', fare: { amount: -5, currency: 'kronor' } });
    expect(zodIssuesText(error)).toBe(
      'rideId: Too small: expected string to have >=1 characters; fare.amount: Too small: expected number to be >0; fare.currency: Too big: expected string to have exactly 3 characters',
    );
  });

  it('names the whole input (root) when the issue has no path, or gives the message alone', () => {
    const error = errorOf(ride, 'not an object');
    expect(zodIssuesText(error)).toBe('(root): Invalid input: expected object, received string');
    expect(zodIssuesText(error, { root: '(body)' })).toBe('(body): Invalid input: expected object, received string');
    expect(zodIssuesText(error, { root: '' })).toBe('Invalid input: expected object, received string');
  });

  it('stops at the limit and counts the rest, so hostile input cannot make a huge message', () => {
    const error = errorOf(
      z.array(z.number()),
      Array.from({ length: 1000 }, () => 'x'),
    );
    const text = zodIssuesText(error, { limit: 2 });
    expect(text).toBe('0: Invalid input: expected number, received string; 1: Invalid input: expected number, received string; and 998 more');
  });

  it('lets a command line name a path as its flag', () => {
    const error = errorOf(z.object({ faultRate: z.number().max(100) }), { faultRate: 101 });
    const flag = (path: readonly PropertyKey[]) => `--${String(path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    expect(zodIssuesText(error, { name: flag })).toBe('--fault-rate: Too big: expected number to be <=100');
  });

  it('lists the issues as fields for error bodies that carry them one by one', () => {
    const error = errorOf(ride, { rideId: 7 });
    expect(zodIssueList(error, { root: '(body)' })).toEqual([
      { where: 'rideId', message: 'Invalid input: expected string, received number' },
      { where: 'fare', message: 'Invalid input: expected object, received undefined' },
    ]);
  });
});
