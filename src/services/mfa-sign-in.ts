import { User } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Unauthenticated } from '../errors.ts';
import type { SecondFactors } from './second-factors.ts';
import type { Session, SessionService } from './session.service.ts';

/** RFC 8176: a password, then a one-time code (TOTP or recovery code): multiple factors. */
const PASSWORD_AND_CODE = ['pwd', 'otp', 'mfa'];

/** The second step of a login of an account with a second factor: its challenge and a code open the session. */
export class MfaSignIn {
  private readonly orm: Orm;
  private readonly secondFactors: SecondFactors;
  private readonly sessions: SessionService;

  constructor(orm: Orm, secondFactors: SecondFactors, sessions: SessionService) {
    this.orm = orm;
    this.secondFactors = secondFactors;
    this.sessions = sessions;
  }

  async complete(challengeToken: string, code: string, clientAddress: string): Promise<Session> {
    const { userId } = await this.secondFactors.completeChallenge(challengeToken, code, clientAddress);
    const user = await this.orm.em.findOne(User, { id: userId });
    if (!user) throw new Unauthenticated('The challenge is invalid or expired: sign in again');
    return this.sessions.signIn(user, PASSWORD_AND_CODE);
  }
}
