// The NLM UCUM library ships no type declarations; this covers the two calls the facts make.
declare module '@lhncbc/ucum-lhc' {
  interface ConvertResult {
    status: 'succeeded' | 'failed' | 'error';
    toVal: number | null;
    msg: string[];
  }
  interface ValidateResult {
    status: 'valid' | 'invalid' | 'error';
    ucumCode: string | null;
    msg: string[];
  }
  export const UcumLhcUtils: {
    getInstance(): {
      convertUnitTo(
        fromUnit: string,
        value: number,
        toUnit: string,
        options?: { molecularWeight?: number | null; charge?: number | null },
      ): ConvertResult;
      validateUnitString(unit: string): ValidateResult;
    };
  };
}
