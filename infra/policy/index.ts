import { PolicyPack } from '@pulumi/policy';
import { policies } from './policies.js';

// `pulumi preview --policy-pack infra/policy` runs these against every stack of the project.
new PolicyPack('syrf-db-tools-guardrails', { enforcementLevel: 'mandatory', policies });
