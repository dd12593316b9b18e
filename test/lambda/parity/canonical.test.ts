import { commonHashType, numericLiteral, type ColumnInfo } from '../../../lambda/parity/canonical';

const col = (typeName: string, category = 'N'): ColumnInfo => ({
  name: 'c',
  typeName,
  category,
  displayType: typeName,
  notNull: false,
});

describe('canonical hashing types', () => {
  it('hashes integers of any width alike, numerics and floats as numeric, timestamps as timestamptz', () => {
    expect(commonHashType(col('int2'), col('int8'))).toBe('int8');
    expect(commonHashType(col('int4'), col('numeric'))).toBe('numeric');
    expect(commonHashType(col('float8'), col('numeric'))).toBe('numeric');
    expect(commonHashType(col('timestamp', 'D'), col('timestamptz', 'D'))).toBe('timestamptz');
    expect(commonHashType(col('varchar', 'S'), col('text', 'S'))).toBe('text');
    expect(commonHashType(col('json', 'U'), col('jsonb', 'U'))).toBe('jsonb');
  });

  it('falls back to the canonical text when the types have nothing in common', () => {
    expect(commonHashType(col('int4'), col('text', 'S'))).toBeUndefined();
    expect(commonHashType(col('point', 'G'), col('point', 'G'))).toBeUndefined();
    expect(commonHashType(col('money'), col('money'))).toBeUndefined();
  });

  it('writes tolerances as exact numeric literals and refuses anything else', () => {
    expect(numericLiteral(0.001)).toBe('0.001::numeric');
    expect(numericLiteral(1e-7)).toBe('0.0000001::numeric');
    expect(() => numericLiteral(-1)).toThrow(/>= 0/);
    expect(() => numericLiteral(Number.NaN)).toThrow(/finite/);
  });
});
