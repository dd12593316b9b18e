import { synthTemplates } from './bench/cost';
for (const env of ['dev','prod']) {
const { templates } = synthTemplates(env);
for (const t of templates) for (const [id, r] of Object.entries<any>(t.Resources)) {
  if (r.Type === 'AWS::Scheduler::Schedule') console.log(env, r.Properties.Name, r.Properties.ScheduleExpression, JSON.stringify(r.Properties.Target.Arn), String(r.Properties.Target.Input).slice(0,120));
  if (r.Type === 'AWS::Lambda::Function') console.log(env, 'FN', id, r.Properties.Description, r.Properties.MemorySize, r.Properties.Timeout, r.Properties.TracingConfig?.Mode, r.Properties.ReservedConcurrentExecutions);
  if (r.Type === 'AWS::StepFunctions::StateMachine') console.log(env, 'SM', id, r.Properties.StateMachineType, JSON.stringify(r.Properties.LoggingConfiguration ?? {}).slice(0,100), r.Properties.TracingConfiguration);
  if (r.Type === 'AWS::Logs::LogGroup') console.log(env, 'LG', id, r.Properties.LogGroupName, r.Properties.RetentionInDays);
  if (r.Type === 'AWS::DynamoDB::Table') console.log(env, 'DDB', JSON.stringify(r.Properties).slice(0,300));
  if (r.Type === 'AWS::SecretsManager::Secret') console.log(env, 'SEC', JSON.stringify(r.Properties).slice(0,200));
  if (r.Type === 'AWS::EC2::FlowLog') console.log(env, 'FLOW', JSON.stringify(r.Properties).slice(0,300));
  if (r.Type === 'AWS::S3::Bucket') console.log(env, 'S3', JSON.stringify(r.Properties).slice(0,300));
}}
