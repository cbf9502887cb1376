/**
 * Who a command asks as: the owner of the token in {@linkcode TOKEN_ENV} (an environment variable, so `ps` never
 * shows it), looked up in the `--tokens` file as the feature server does; anonymous (PII refused) without a token.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { type Caller, TokenAuth } from "../pii.ts";

/** The environment variable holding a command's bearer token. */
export const TOKEN_ENV = "MERCURY_FEATURES_TOKEN";

/** The caller of a command (`get`, `training-set`): the token's owner, or undefined (anonymous). */
export async function commandCaller(tokensPath: string | undefined): Promise<Caller | undefined> {
  const token = Deno.env.get(TOKEN_ENV);
  if (!token) return undefined;
  if (!tokensPath) {
    throw new MercuryError("usage", `${TOKEN_ENV} is set but no --tokens file says whose it is`, {
      where: "--tokens",
      hint: "pass the tokens file the feature server uses: --tokens tokens.json",
    });
  }
  return await (await TokenAuth.fromFile(tokensPath)).authenticate(`Bearer ${token}`);
}
